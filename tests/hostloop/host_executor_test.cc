// tests/hostloop/host_executor_test.cc: HostExecutorTest, the executor side
// of a host loop: coalesced notification, bounded passes, errors, misuse.
#include "interop/hostloop/host_executor.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "executor/spawn_error.h"
#include "poll/box_future.h"
#include "poll/ready.h"
#include "tests/hostloop/host_support.h"

namespace pollwake::hostloop {
namespace {

using testing::FakeHost;
using testing::ParkedCounters;
using testing::ParkedFuture;
using testing::YieldFuture;

// A future that throws when polled.
struct ThrowingFuture {
  using Output = Unit;
  Poll<Unit> poll(Context&) { throw std::runtime_error("task exploded"); }
};

TEST(HostExecutorTest, EmptyNotifyHookIsRefused) {
  EXPECT_THROW(HostExecutor(std::function<void()>()), std::invalid_argument);
}

TEST(HostExecutorTest, RunReadyWithNothingReadyReturnsZero) {
  FakeHost host;
  HostExecutor ex([&] { host.notify(); });
  EXPECT_EQ(ex.run_ready(), 0u);
  EXPECT_EQ(ex.notify_calls(), 0u);
}

TEST(HostExecutorTest, SpawnsBeforeARunCostOneNotify) {
  FakeHost host;
  HostExecutor ex([&] { host.notify(); });
  auto polls = std::make_shared<std::atomic<int>>(0);
  for (int i = 0; i < 10; ++i) ex.spawn(boxed(YieldFuture(0, polls)));
  EXPECT_EQ(ex.notify_calls(), 1u);
  EXPECT_EQ(ex.run_ready(), 10u);
  EXPECT_EQ(polls->load(), 10);
  EXPECT_EQ(ex.live_tasks(), 0u);
}

// [START hostloop_coalesce_test]
TEST(HostExecutorTest, NWakesBeforeRunReadyNotifyExactlyOnce) {
  FakeHost host;
  HostExecutor ex([&] { host.notify(); });
  auto c = std::make_shared<ParkedCounters>();
  ex.spawn(boxed(ParkedFuture(c)));
  ASSERT_EQ(ex.run_ready(), 1u);  // parked: its waker is stored
  const std::uint64_t before = ex.notify_calls();

  // 4 threads x 250 wakes, then 100 more from the host thread.
  std::vector<std::thread> wakers;
  for (int t = 0; t < 4; ++t) {
    wakers.emplace_back([c] {
      std::optional<Waker> w = c->clone_waker();
      for (int i = 0; i < 250; ++i) w->wake_by_ref();
    });
  }
  for (auto& t : wakers) t.join();
  for (int i = 0; i < 100; ++i) c->clone_waker()->wake_by_ref();

  EXPECT_EQ(ex.notify_calls() - before, 1u);  // one batch, one notify
  EXPECT_EQ(ex.run_ready(), 1u);              // and the task is queued once
  EXPECT_EQ(c->polls.load(), 2);
}
// [END hostloop_coalesce_test]

TEST(HostExecutorTest, EachBatchAfterARunNotifiesAgain) {
  FakeHost host;
  HostExecutor ex([&] { host.notify(); });
  auto c = std::make_shared<ParkedCounters>();
  ex.spawn(boxed(ParkedFuture(c)));
  for (int round = 1; round <= 5; ++round) {
    ASSERT_TRUE(host.wait_for_notification());
    ex.run_ready();
    c->clone_waker()->wake_by_ref();
    c->clone_waker()->wake_by_ref();
    EXPECT_EQ(ex.notify_calls(), static_cast<std::uint64_t>(round + 1));
  }
}

// A hook that throws has not signalled the host, so the batch is not
// covered: the next wake must call the hook again instead of being coalesced
// into the failed notification (which would lose every later wakeup).
TEST(HostExecutorTest, ThrowingNotifyHookDoesNotSwallowLaterWakes) {
  int calls = 0;
  HostExecutor ex([&] {
    if (++calls == 1) throw std::runtime_error("host refused the signal");
  });
  auto polls = std::make_shared<std::atomic<int>>(0);
  EXPECT_THROW(ex.spawn(boxed(YieldFuture(0, polls))), std::runtime_error);
  EXPECT_EQ(calls, 1);
  ex.spawn(boxed(YieldFuture(0, polls)));
  EXPECT_EQ(calls, 2);  // the second spawn signalled the host
  EXPECT_EQ(ex.run_ready(), 2u);  // both tasks were queued
  EXPECT_EQ(polls->load(), 2);
}

// [START hostloop_next_pass_test]
TEST(HostExecutorTest, TaskWokenDuringARunWaitsForTheNextNotification) {
  FakeHost host;
  HostExecutor ex([&] { host.notify(); });
  auto polls = std::make_shared<std::atomic<int>>(0);
  ex.spawn(boxed(YieldFuture(2, polls)));  // wakes itself twice
  ASSERT_TRUE(host.wait_for_notification());
  EXPECT_EQ(ex.run_ready(), 1u);  // one poll per pass, although it woke itself
  EXPECT_EQ(polls->load(), 1);
  ASSERT_TRUE(host.wait_for_notification());  // the self-wake notified again
  EXPECT_EQ(ex.run_ready(), 1u);
  ASSERT_TRUE(host.wait_for_notification());
  EXPECT_EQ(ex.run_ready(), 1u);
  EXPECT_EQ(polls->load(), 3);
  EXPECT_EQ(ex.live_tasks(), 0u);
  EXPECT_FALSE(host.wait_for_notification(std::chrono::milliseconds(0)));
}
// [END hostloop_next_pass_test]

// Parked forever; each poll after the first waits (bounded) until another
// thread has woken the task while this poll runs, so that wake lands inside
// run_ready()'s pass, the window where the coalescing flag decides.
struct HandshakeFuture {
  using Output = Unit;
  struct Shared {
    std::atomic<int> polls{0};
    std::atomic<int> wakes{0};
    std::atomic<bool> timed_out{false};
    std::optional<Waker> waker;  // set by the first poll, before the waking thread starts
  };
  std::shared_ptr<Shared> s;
  Poll<Unit> poll(Context& cx) {
    const int p = s->polls.fetch_add(1) + 1;
    if (p == 1) {
      s->waker.emplace(cx.waker());
      return Pending;
    }
    const auto deadline = std::chrono::steady_clock::now() + testing::kLostWakeupDeadline;
    while (s->wakes.load() < p) {
      if (std::chrono::steady_clock::now() > deadline) {
        s->timed_out.store(true);
        break;
      }
      std::this_thread::yield();
    }
    return Pending;
  }
};

// The lost-wakeup window of the coalescing flag, one wake at a time: another
// thread wakes the parked task while its poll runs (inside the pass), so
// that wake must notify again; a flag still set from the batch being run
// would swallow it and leave the owner waiting. The bounded waits report
// that instead of hanging. Bounded: kRounds wakes, each wait 20 s at most.
TEST(HostExecutorTest, CrossThreadWakeDuringAPassIsNeverLost) {
  const int kRounds = 1000 / testing::kStressScale;
  FakeHost host;
  HostExecutor ex([&] { host.notify(); });
  auto s = std::make_shared<HandshakeFuture::Shared>();
  ex.spawn(boxed(HandshakeFuture{s}));
  ASSERT_TRUE(host.wait_for_notification());
  ASSERT_EQ(ex.run_ready(), 1u);  // polls == 1; the waker is stored
  std::atomic<bool> stop{false};
  std::thread waker([&] {
    for (int i = 1; i <= kRounds; ++i) {
      while (s->polls.load() < i) {  // poll i has begun: its task is unqueued
        if (stop.load()) return;
        std::this_thread::yield();
      }
      s->waker->wake_by_ref();
      s->wakes.store(i);  // lets poll i return: the wake landed inside its pass
    }
    s->wakes.store(kRounds + 1);  // the last poll has no wake to wait for
  });
  bool lost = false;
  while (s->polls.load() < kRounds + 1 && !lost) {
    lost = !host.wait_for_notification();
    if (!lost) ex.run_ready();
  }
  stop.store(true);
  s->wakes.store(kRounds + 1);  // release a poll still waiting
  waker.join();
  EXPECT_FALSE(lost) << "lost wakeup after " << s->polls.load() << " polls";
  EXPECT_FALSE(s->timed_out.load());
  EXPECT_EQ(s->polls.load(), kRounds + 1);
}

TEST(HostExecutorTest, TasksRunInWakeOrder) {
  FakeHost host;
  HostExecutor ex([&] { host.notify(); });
  std::vector<int> order;  // each task records itself when it finishes
  std::vector<std::shared_ptr<ParkedCounters>> cs;
  for (int i = 0; i < 3; ++i) {
    cs.push_back(std::make_shared<ParkedCounters>());
    ex.spawn(boxed(ParkedFuture(cs.back())), [&order, i](absl::Status) { order.push_back(i); });
  }
  ex.run_ready();
  // Wake 2, 0, 1, with a new task spawned before each wake.
  for (int i : {2, 0, 1}) {
    cs[i]->release.store(true);
    ex.spawn_local(boxed_local(ready(Unit{})), [&order, i](absl::Status) { order.push_back(10 + i); });
    cs[i]->clone_waker()->wake_by_ref();
  }
  ex.run_ready();
  EXPECT_EQ(order, (std::vector<int>{12, 2, 10, 0, 11, 1}));
  for (auto& c : cs) EXPECT_EQ(c->polls.load(), 2);
  EXPECT_EQ(ex.live_tasks(), 0u);
}

TEST(HostExecutorTest, OnDoneReceivesOkOrTheTaskError) {
  FakeHost host;
  HostExecutor ex([&] { host.notify(); });
  std::vector<absl::Status> done;
  ex.spawn(boxed(ready(Unit{})), [&](absl::Status s) { done.push_back(s); });
  ex.spawn(boxed(ThrowingFuture{}), [&](absl::Status s) { done.push_back(s); });
  ex.run_ready();  // does not throw: the error goes to on_done
  ASSERT_EQ(done.size(), 2u);
  EXPECT_TRUE(done[0].ok());
  EXPECT_EQ(done[1].code(), absl::StatusCode::kInternal);
  EXPECT_EQ(done[1].message(), "task exploded");
  EXPECT_EQ(ex.failed_tasks(), 0u);
}

TEST(HostExecutorTest, FailedTaskWithoutOnDoneIsCounted) {
  FakeHost host;
  HostExecutor ex([&] { host.notify(); });
  ex.spawn(boxed(ThrowingFuture{}));
  EXPECT_NO_THROW(ex.run_ready());
  EXPECT_EQ(ex.failed_tasks(), 1u);
  EXPECT_EQ(ex.live_tasks(), 0u);
}

TEST(HostExecutorTest, ThrowingOnDoneDoesNotStrandTheRestOfThePass) {
  FakeHost host;
  HostExecutor ex([&] { host.notify(); });
  auto polls = std::make_shared<std::atomic<int>>(0);
  ex.spawn(boxed(ready(Unit{})), [](absl::Status) { throw std::runtime_error("on_done bug"); });
  ex.spawn(boxed(YieldFuture(0, polls)));
  EXPECT_NO_THROW(ex.run_ready());
  EXPECT_EQ(polls->load(), 1);  // the second task still ran in the same pass
  EXPECT_EQ(ex.failed_tasks(), 1u);
  EXPECT_EQ(ex.live_tasks(), 0u);
}

TEST(HostExecutorTest, RunReadyFromAnotherThreadThrows) {
  FakeHost host;
  HostExecutor ex([&] { host.notify(); });
  bool threw = false;
  std::thread([&] {
    try {
      ex.run_ready();
    } catch (const std::logic_error&) {
      threw = true;
    }
  }).join();
  EXPECT_TRUE(threw);
}

TEST(HostExecutorTest, SpawnLocalFromAnotherThreadThrowsMisuse) {
  FakeHost host;
  HostExecutor ex([&] { host.notify(); });
  bool misuse = false;
  std::thread([&] {
    try {
      ex.spawn_local(boxed_local(ready(Unit{})));
    } catch (const SpawnError& e) {
      misuse = !e.is_shutdown();
    }
  }).join();
  EXPECT_TRUE(misuse);
}

TEST(HostExecutorTest, SpawnFromAnotherThreadNotifiesAndRuns) {
  FakeHost host;
  HostExecutor ex([&] { host.notify(); });
  HostSpawner spawner = ex.spawner();
  auto polls = std::make_shared<std::atomic<int>>(0);
  std::thread([&] { spawner.spawn(boxed(YieldFuture(0, polls))); }).join();
  ASSERT_TRUE(host.wait_for_notification());
  EXPECT_EQ(ex.run_ready(), 1u);
  EXPECT_EQ(polls->load(), 1);
}

// A future that calls back into its executor when polled.
struct ReentrantFuture {
  using Output = Unit;
  HostExecutor* ex;
  std::string* caught;
  bool shutdown;
  Poll<Unit> poll(Context&) {
    try {
      if (shutdown) {
        ex->shutdown();
      } else {
        ex->run_ready();
      }
    } catch (const std::logic_error& e) {
      *caught = e.what();
    }
    return Ready();
  }
};

TEST(HostExecutorTest, RunReadyFromInsideATaskThrows) {
  FakeHost host;
  HostExecutor ex([&] { host.notify(); });
  std::string caught;
  ex.spawn_local(boxed_local(ReentrantFuture{&ex, &caught, false}));
  ex.run_ready();
  EXPECT_NE(caught.find("inside a task"), std::string::npos) << caught;
}

TEST(HostExecutorTest, ShutdownFromInsideATaskThrows) {
  FakeHost host;
  HostExecutor ex([&] { host.notify(); });
  std::string caught;
  ex.spawn_local(boxed_local(ReentrantFuture{&ex, &caught, true}));
  ex.run_ready();
  EXPECT_NE(caught.find("inside a task"), std::string::npos) << caught;
}

struct SuicideFuture {
  using Output = Unit;
  std::unique_ptr<HostExecutor>* owner;
  Poll<Unit> poll(Context&) {
    owner->reset();
    return Ready();
  }
};

TEST(HostExecutorDeathTest, DestroyedFromInsideItsOwnTaskAborts) {
  EXPECT_DEATH(
      {
        auto ex = std::make_unique<HostExecutor>([] {});
        ex->spawn_local(boxed_local(SuicideFuture{&ex}));
        ex->run_ready();
      },
      "destroyed from inside one of its own tasks");
}

TEST(HostExecutorTest, RunReadyAfterShutdownThrows) {
  FakeHost host;
  HostExecutor ex([&] { host.notify(); });
  ex.shutdown();
  ex.shutdown();  // idempotent
  EXPECT_THROW(ex.run_ready(), std::logic_error);
}

}  // namespace
}  // namespace pollwake::hostloop
