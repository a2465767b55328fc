// tests/executor/block_on_test.cc: block_on (futures-rs block_on) and its
// park strategies.
#include "executor/block_on.h"

#include <atomic>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "executor/enter.h"
#include "poll/ready.h"
#include "tests/support/deadline.h"
#include "tests/support/drop_counter.h"
#include "tests/support/gate.h"
#include "tests/support/sanitizer_scale.h"
#include "tests/support/watchdog.h"

namespace pollwake {
namespace {

using testing::Gate;
using testing::GateFuture;
using testing::kDeadline;
using testing::Watchdog;

TEST(BlockOnTest, ReturnsTheOutputOfAReadyFuture) {
  EXPECT_EQ(block_on(ready(42)), 42);
  EXPECT_EQ(block_on(ready(std::string("hi"))), "hi");
}

TEST(BlockOnTest, PollsAReadyFutureOnce) {
  auto gate = std::make_shared<Gate>();
  gate->open.store(true);
  block_on(GateFuture<>(gate));
  EXPECT_EQ(gate->polls.load(), 1);
}

TEST(BlockOnTest, PollsAnLvalueFutureInPlace) {
  int polls = 0;
  auto f = poll_fn([&](Context&) -> Poll<int> { return Ready(++polls); });
  EXPECT_EQ(block_on(f), 1);
  EXPECT_THROW(block_on(f), FuturePolledAfterCompletion);  // same object, finished
}

template <class Strategy>
class BlockOnStrategyTest : public ::testing::Test {};
using Strategies = ::testing::Types<CondvarPark, FutexPark, SpinThenPark>;
TYPED_TEST_SUITE(BlockOnStrategyTest, Strategies);

// A future that wakes itself during its first poll, before block_on parks:
// the wake must not be lost, or block_on would sleep until the watchdog.
TYPED_TEST(BlockOnStrategyTest, WakeBeforeParkIsNotLost) {
  std::optional<Waker> stored;
  std::mutex mu;
  std::atomic<bool> rescued{false};
  int polls = 0;
  Watchdog dog("lost wakeup", kDeadline, [&] {
    rescued = true;
    std::lock_guard<std::mutex> lock(mu);
    if (stored) stored->wake_by_ref();
  });
  block_on_with<TypeParam>(poll_fn([&](Context& cx) -> Poll<Unit> {
    ++polls;
    if (polls > 1) return Ready();
    {
      std::lock_guard<std::mutex> lock(mu);
      stored.emplace(cx.waker());
    }
    cx.waker().wake_by_ref();  // before the park
    return Pending;
  }));
  dog.stop();
  EXPECT_FALSE(rescued.load()) << "lost wakeup: only the watchdog's wake finished block_on";
  EXPECT_EQ(polls, 2);
}

// Another thread opens the gate and wakes the waker: block_on wakes and
// returns the value.
TYPED_TEST(BlockOnStrategyTest, WakeFromAnotherThreadCompletes) {
  auto gate = std::make_shared<Gate>();
  Watchdog dog("lost wakeup", kDeadline, [&] { gate->open_and_wake(); });
  bool polled = false;
  std::thread waker([&] {
    polled = gate->wait_for_waker();  // bounded: until the first poll parked
    gate->open_and_wake();
  });
  int v = block_on_with<TypeParam>(GateFuture<int>(gate, 7));
  waker.join();
  dog.stop();
  EXPECT_TRUE(polled) << "block_on's first poll stored no waker before the deadline";
  EXPECT_FALSE(dog.stalled()) << "lost wakeup";
  EXPECT_EQ(v, 7);
  EXPECT_GE(gate->polls.load(), 2);
}

// Several threads each bump a counter and wake, 10^5 times in all per thread
// (scaled under tsan); the future is Ready when it has seen every bump. A
// lost wake would leave block_on parked with the count incomplete.
TYPED_TEST(BlockOnStrategyTest, ManyWakesFromManyThreadsAreNotLost) {
  constexpr int kThreads = 3;
  const int per_thread = testing::Scaled(100000);
  std::atomic<int> sent{0};
  std::atomic<bool> rescued{false};
  std::optional<Waker> first;
  std::atomic<bool> have_waker{false};
  std::vector<std::thread> threads;
  int polls = 0;
  Watchdog dog("lost wakeup", kDeadline * 2, [&] {
    rescued = true;
    first->wake_by_ref();
  });
  auto fut = poll_fn([&](Context& cx) -> Poll<int> {
    ++polls;
    if (!have_waker.load()) {
      first.emplace(cx.waker());
      have_waker.store(true);
      for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, w = Waker(cx.waker())] {
          for (int i = 0; i < per_thread; ++i) {
            sent.fetch_add(1);
            w.wake_by_ref();
          }
        });
      }
    }
    if (rescued.load() || sent.load() == kThreads * per_thread) return Ready(sent.load());
    return Pending;
  });
  int total = block_on_with<TypeParam>(fut);
  for (auto& t : threads) t.join();
  dog.stop();
  EXPECT_FALSE(rescued.load()) << "lost wakeup: saw " << total << " of "
                               << kThreads * per_thread;
  EXPECT_EQ(total, kThreads * per_thread);
  EXPECT_LE(polls, kThreads * per_thread + 1) << "at most one poll per wake";
}

TEST(BlockOnTest, BlockOnInsideBlockOnIsRefused) {
  bool refused = false;
  std::string message;
  block_on(poll_fn([&](Context&) -> Poll<Unit> {
    try {
      block_on(ready(1));
    } catch (const EnterError& e) {
      refused = true;
      message = e.what();
    }
    return Ready();
  }));
  EXPECT_TRUE(refused);
  EXPECT_NE(message.find("within another executor"), std::string::npos) << message;
  EXPECT_FALSE(is_entered());
}

TEST(BlockOnTest, BlockOnInsideAnEnteredThreadIsRefusedBeforePolling) {
  auto gate = std::make_shared<Gate>();
  Enter guard = enter();
  EXPECT_THROW(block_on(GateFuture<>(gate)), EnterError);
  EXPECT_EQ(gate->polls.load(), 0);
}

TEST(BlockOnTest, ExceptionPropagatesAndEnterFlagIsRestored) {
  EXPECT_THROW(block_on(poll_fn([](Context&) -> Poll<int> { throw std::runtime_error("boom"); })),
               std::runtime_error);
  EXPECT_FALSE(is_entered());
  EXPECT_EQ(block_on(ready(3)), 3);  // usable again
}

// The same after a Pending: the throwing poll is the out-of-line one (after
// a park), and the guard that restores the flag lives in the caller's frame.
TEST(BlockOnTest, ExceptionFromALaterPollPropagatesAndEnterFlagIsRestored) {
  int polls = 0;
  EXPECT_THROW(block_on(poll_fn([&polls](Context& cx) -> Poll<int> {
                 if (++polls == 1) {
                   cx.waker().wake_by_ref();
                   return Pending;
                 }
                 throw std::runtime_error("boom");
               })),
               std::runtime_error);
  EXPECT_EQ(polls, 2);
  EXPECT_FALSE(is_entered());
  EXPECT_EQ(block_on(ready(4)), 4);  // usable again
}

// A waker cloned during block_on and woken after it returned: harmless, and
// the next block_on on this thread still works and is not confused by it.
TEST(BlockOnTest, WakerOutlivingTheCallIsHarmless) {
  std::optional<Waker> kept;
  block_on(poll_fn([&](Context& cx) -> Poll<Unit> {
    kept.emplace(cx.waker());
    return Ready();
  }));
  kept->wake_by_ref();
  Waker(*kept).wake();
  int polls = 0;
  block_on(poll_fn([&](Context&) -> Poll<Unit> {
    ++polls;
    return Ready();
  }));
  EXPECT_EQ(polls, 1);
}

// A waker that outlives its thread: the thread's parker stays alive until
// the last waker goes (ASan checks the frees, LeakSanitizer the leaks).
TEST(BlockOnTest, WakerOutlivingItsThreadIsHarmless) {
  std::optional<Waker> kept;
  std::thread t([&] {
    block_on(poll_fn([&](Context& cx) -> Poll<Unit> {
      kept.emplace(cx.waker());
      return Ready();
    }));
  });
  t.join();
  kept->wake_by_ref();
  Waker clone = *kept;
  kept.reset();
  std::move(clone).wake();  // the last reference: frees the orphaned parker
}

TEST(BlockOnTest, ClonesOfTheWakerWillWakeEachOther) {
  block_on(poll_fn([&](Context& cx) -> Poll<Unit> {
    Waker a = cx.waker();
    EXPECT_TRUE(a.will_wake(cx.waker()));
    return Ready();
  }));
}

}  // namespace
}  // namespace pollwake
