// tests/interop/go_chan_test.cc: go::Chan, go::Go and go::WithCancel (the
// thread-per-goroutine twin of Go's model). Bounded: every blocking step
// has a watchdog, so a lost wake-up fails instead of hanging.
#include "interop/go/chan.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "interop/go/goroutine.h"

namespace pollwake::go {
namespace {

constexpr std::chrono::seconds kDeadline{20};

TEST(ChanTest, SendReturnsOnlyAfterAReceiverTookTheValue) {
  Chan<int> ch;
  std::atomic<bool> sent{false};
  std::thread sender([&] {
    ch.Send(42);
    sent.store(true);
  });
  // Give the sender time to block; it must still be blocked (no receiver).
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(sent.load()) << "an unbuffered send returned with no receiver";
  EXPECT_EQ(ch.Recv(), 42);
  sender.join();
  EXPECT_TRUE(sent.load());
}

TEST(ChanTest, ManySendersEachValueReceivedOnce) {
  Chan<int> ch;
  std::vector<std::thread> senders;
  for (int i = 0; i < 8; ++i) senders.emplace_back([ch, i] { ch.Send(i); });
  std::vector<int> got;
  auto receiving = std::async(std::launch::async, [&] {
    for (int i = 0; i < 8; ++i) got.push_back(ch.Recv());
  });
  ASSERT_EQ(receiving.wait_for(kDeadline), std::future_status::ready) << "lost wake-up";
  for (auto& t : senders) t.join();
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST(ChanTest, CloseWakesEveryReceiverWithTheZeroValue) {
  Chan<std::string> ch;
  std::vector<std::future<std::pair<std::string, bool>>> receivers;
  for (int i = 0; i < 3; ++i) receivers.push_back(std::async(std::launch::async, [ch] { return ch.RecvOk(); }));
  ch.Close();
  for (auto& r : receivers) {
    ASSERT_EQ(r.wait_for(kDeadline), std::future_status::ready) << "close did not wake a receiver";
    auto [v, ok] = r.get();
    EXPECT_FALSE(ok);
    EXPECT_EQ(v, "");
  }
  EXPECT_FALSE(ch.RecvOk().second) << "a receive after close must not block";
}

TEST(ChanTest, SendOnClosedAndCloseTwicePanic) {
  Chan<int> ch;
  ch.Close();
  EXPECT_THROW(ch.Send(1), std::logic_error);
  EXPECT_THROW(ch.Close(), std::logic_error);
}

TEST(ContextTest, CancelClosesDoneOnceAndSetsErr) {
  auto [ctx, cancel] = WithCancel();
  EXPECT_EQ(ctx.Err(), "");
  auto waiting = std::async(std::launch::async, [ctx = ctx] { ctx.Done().Recv(); });
  cancel();
  cancel();  // idempotent, as Go's CancelFunc
  ASSERT_EQ(waiting.wait_for(kDeadline), std::future_status::ready) << "cancel did not wake <-ctx.Done()";
  EXPECT_EQ(ctx.Err(), "context canceled");
}

TEST(GoroutinesTest, JoinAllWaitsForNestedGoroutines) {
  std::atomic<int> ran{0};
  Go([&] {
    ran.fetch_add(1);
    Go([&] { ran.fetch_add(1); });
  });
  Goroutines::JoinAll();
  EXPECT_EQ(ran.load(), 2);
}

// Go: a panic that leaves a goroutine ends the whole program. The twin's
// equivalent, an exception that leaves a Go() thread, must end it too
// (std::terminate), not vanish with the thread.
TEST(GoroutinesDeathTest, AnExceptionLeavingAGoroutineEndsTheProgram) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Go([] { throw std::runtime_error("B failed"); });
        Goroutines::JoinAll();
      },
      "");
}

}  // namespace
}  // namespace pollwake::go
