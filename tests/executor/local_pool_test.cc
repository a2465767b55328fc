// tests/executor/local_pool_test.cc: LocalPool, LocalSpawner, RemoteHandle
// (futures-rs LocalPool), single-threaded behaviour plus cross-thread wakes.
#include "executor/local_pool.h"

#include <atomic>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "executor/block_on.h"
#include "executor/enter.h"
#include "poll/ready.h"
#include "tests/support/deadline.h"
#include "tests/support/drop_counter.h"
#include "tests/support/gate.h"
#include "tests/support/sanitizer_scale.h"
#include "tests/support/watchdog.h"

namespace pollwake {
namespace {

using testing::DropCounter;
using testing::Gate;
using testing::GateFuture;
using testing::kDeadline;
using testing::Watchdog;
using testing::YieldFuture;
using Log = std::vector<std::string>;

// A future that counts its polls and is Ready on poll number `ready_at`
// (never, if 0), without arranging any wake.
struct CountPolls {
  using Output = Unit;
  int* polls;
  int ready_at = 0;
  Poll<Unit> poll(Context&) {
    ++*polls;
    if (ready_at != 0 && *polls >= ready_at) return Ready();
    return Pending;
  }
};

TEST(LocalPoolTest, SpawnedTasksAreInertUntilThePoolRuns) {
  LocalPool pool;
  int polls = 0;
  pool.spawner().spawn_local(CountPolls{&polls, 1});
  EXPECT_EQ(polls, 0);
  pool.run_until_stalled();
  EXPECT_EQ(polls, 1);
}

TEST(LocalPoolTest, RunUntilStalledReturnsWhenNothingIsWoken) {
  LocalPool pool;
  int a = 0, b = 0;
  pool.spawner().spawn_local(CountPolls{&a});  // Pending, never wakes
  pool.spawner().spawn_local(CountPolls{&b});
  pool.run_until_stalled();
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 1);
  pool.run_until_stalled();  // nothing woken: nothing polled
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 1);
}

TEST(LocalPoolTest, RunUntilStalledRunsTasksSpawnedByTasks) {
  LocalPool pool;
  LocalSpawner spawner = pool.spawner();
  Log log;
  spawner.spawn_local(poll_fn([&](Context&) -> Poll<Unit> {
    log.push_back("parent");
    spawner.spawn_local(poll_fn([&](Context&) -> Poll<Unit> {
      log.push_back("child");
      spawner.spawn_local(poll_fn([&](Context&) -> Poll<Unit> {
        log.push_back("grandchild");
        return Ready();
      }));
      return Ready();
    }));
    return Ready();
  }));
  pool.run_until_stalled();
  EXPECT_EQ(log, (Log{"parent", "child", "grandchild"}));
}

TEST(LocalPoolTest, RunUntilStalledRunsTasksWokenByOtherTasks) {
  LocalPool pool;
  auto gate = std::make_shared<Gate>();
  pool.spawner().spawn_local(GateFuture<>(gate));
  int opener_polls = 0;
  pool.spawner().spawn_local(poll_fn([&](Context&) -> Poll<Unit> {
    ++opener_polls;
    gate->open_and_wake();  // wakes the first task, already polled this pass
    return Ready();
  }));
  pool.run_until_stalled();
  EXPECT_EQ(gate->polls.load(), 2);
  EXPECT_EQ(gate->drops.load(), 1) << "the woken task ran to completion";
}

// Regression (found by the schedule fuzzer, tests/fuzz/): task A wakes
// itself, so it is queued for the next pass; task B, later in the same pass,
// wakes A again and stays pending. B's wake coalesces with A's queue entry,
// but it comes from another task, so the pass made progress and
// run_until_stalled must poll A again before it returns.
TEST(LocalPoolTest, RunUntilStalledPollsASelfWokenTaskThatAnotherTaskWoke) {
  LocalPool pool;
  std::optional<Waker> a_waker;
  int a_polls = 0;
  pool.spawner().spawn_local(poll_fn([&](Context& cx) -> Poll<Unit> {
    if (++a_polls > 1) return Ready();
    a_waker.emplace(cx.waker());
    cx.waker().wake_by_ref();  // a self-wake: queued for the next pass
    return Pending;
  }));
  int b_polls = 0;
  pool.spawner().spawn_local(poll_fn([&](Context&) -> Poll<Unit> {
    if (++b_polls == 1 && a_waker) a_waker->wake_by_ref();  // coalesces
    return Pending;
  }));
  pool.run_until_stalled();
  EXPECT_EQ(a_polls, 2) << "A was woken by B, yet run_until_stalled returned without polling it";
  EXPECT_EQ(b_polls, 1);
}

// A task that wakes itself on every poll does not keep run_until_stalled
// going: after a pass with nothing but self-wakes it returns, and the task
// stays queued for the next call.
TEST(LocalPoolTest, RunUntilStalledReturnsDespiteASelfWakingTask) {
  LocalPool pool;
  Log log;
  pool.spawner().spawn_local(YieldFuture(1000000, "spin", &log));
  pool.run_until_stalled();
  EXPECT_EQ(log, (Log{"spin"}));
  pool.run_until_stalled();
  EXPECT_EQ(log, (Log{"spin", "spin"}));
}

TEST(LocalPoolTest, SelfWakingTaskDoesNotStarveOthers) {
  LocalPool pool;
  Log log;
  pool.spawner().spawn_local(YieldFuture(1000000, "spin", &log));
  pool.spawner().spawn_local(YieldFuture(2, "b", &log));
  // Pass 1: spin, b (both self-wake; no progress) -> return.
  pool.run_until_stalled();
  EXPECT_EQ(log, (Log{"spin", "b"}));
  // try_run_one follows the same rule: a pass of self-wakes only is no
  // progress (false); the pass in which b completes returns true at once.
  log.clear();
  EXPECT_FALSE(pool.try_run_one());
  EXPECT_EQ(log, (Log{"spin", "b"}));
  log.clear();
  EXPECT_TRUE(pool.try_run_one());
  EXPECT_EQ(log, (Log{"spin", "b"})) << "one poll each per pass: no starvation";
}

TEST(LocalPoolTest, TryRunOneReturnsFalseOnNoProgress) {
  LocalPool pool;
  EXPECT_FALSE(pool.try_run_one());  // empty pool
  int polls = 0;
  pool.spawner().spawn_local(CountPolls{&polls});
  EXPECT_FALSE(pool.try_run_one());  // polled once, Pending, nothing woken
  EXPECT_EQ(polls, 1);
  EXPECT_FALSE(pool.try_run_one());
  EXPECT_EQ(polls, 1);
}

TEST(LocalPoolTest, TryRunOneStopsAfterOneCompletion) {
  LocalPool pool;
  int a = 0, b = 0;
  pool.spawner().spawn_local(CountPolls{&a, 1});
  pool.spawner().spawn_local(CountPolls{&b, 1});
  EXPECT_TRUE(pool.try_run_one());
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 0) << "try_run_one must stop after the first completion";
  EXPECT_TRUE(pool.try_run_one());
  EXPECT_EQ(b, 1);
  EXPECT_FALSE(pool.try_run_one());
}

TEST(LocalPoolTest, RunUntilReturnsTheOutput) {
  LocalPool pool;
  EXPECT_EQ(pool.run_until(ready(5)), 5);
}

TEST(LocalPoolTest, RunUntilIgnoresSpawned) {
  LocalPool pool;
  int polls = 0;
  pool.spawner().spawn_local(CountPolls{&polls});
  pool.run_until(ready(Unit{}));
  // The main future was ready at once; the spawned task may or may not have
  // been polled, but it stays in the pool and is run later.
  pool.run_until_stalled();
  EXPECT_EQ(polls, 1);
}

TEST(LocalPoolTest, RunUntilRunsTasksUntilTheMainFutureIsReady) {
  LocalPool pool;
  auto gate = std::make_shared<Gate>();
  int other = 0;
  pool.spawner().spawn_local(CountPolls{&other});  // never finishes
  pool.spawner().spawn_local(poll_fn([&](Context&) -> Poll<Unit> {
    gate->open_and_wake();  // wakes the main future
    return Ready();
  }));
  int v = pool.run_until(GateFuture<int>(gate, 9));
  EXPECT_EQ(v, 9);
  EXPECT_EQ(other, 1);
}

TEST(LocalPoolTest, RunCompletesAllTasks) {
  LocalPool pool;
  Log log;
  pool.spawner().spawn_local(YieldFuture(2, "a", &log));
  pool.spawner().spawn_local(YieldFuture(0, "b", &log));
  pool.run();
  EXPECT_EQ(log, (Log{"a", "b", "a", "a"}));
}

// futures-rs's tasks_are_scheduled_fairly: two yielding tasks alternate.
TEST(LocalPoolTest, TasksAreScheduledFairly) {
  LocalPool pool;
  Log log;
  pool.spawner().spawn_local(YieldFuture(3, "a", &log));
  pool.spawner().spawn_local(YieldFuture(3, "b", &log));
  pool.run();
  EXPECT_EQ(log, (Log{"a", "b", "a", "b", "a", "b", "a", "b"}));
}

TEST(LocalPoolTest, WokenTaskIsQueuedOnce) {
  LocalPool pool;
  auto gate = std::make_shared<Gate>();
  pool.spawner().spawn_local(GateFuture<>(gate));
  pool.run_until_stalled();
  ASSERT_EQ(gate->polls.load(), 1);
  for (int i = 0; i < 5; ++i) gate->wake_only();
  pool.run_until_stalled();
  EXPECT_EQ(gate->polls.load(), 2) << "five wakes before the run: one poll";
}

TEST(LocalPoolTest, WakeDuringPollCausesOneRepoll) {
  LocalPool pool;
  int polls = 0;
  pool.spawner().spawn_local(poll_fn([&](Context& cx) -> Poll<Unit> {
    ++polls;
    if (polls == 1) {
      cx.waker().wake_by_ref();
      cx.waker().wake_by_ref();
      Waker(cx.waker()).wake();
      return Pending;
    }
    return Ready();
  }));
  pool.run();
  EXPECT_EQ(polls, 2);
}

TEST(LocalPoolTest, WakeAfterCompletionIsIgnored) {
  LocalPool pool;
  std::optional<Waker> kept;
  int polls = 0;
  pool.spawner().spawn_local(poll_fn([&](Context& cx) -> Poll<Unit> {
    ++polls;
    kept.emplace(cx.waker());
    return Ready();
  }));
  pool.run_until_stalled();
  kept->wake_by_ref();
  pool.run_until_stalled();
  EXPECT_EQ(polls, 1);
}

TEST(LocalPoolTest, WakerOutlivingPoolDoesNothing) {
  auto gate = std::make_shared<Gate>();
  std::optional<Waker> kept;
  {
    LocalPool pool;
    pool.spawner().spawn_local(GateFuture<>(gate));
    pool.run_until_stalled();
    kept = gate->clone_waker();
  }
  EXPECT_EQ(gate->drops.load(), 1) << "dropping the pool drops its pending task";
  kept->wake_by_ref();  // the pool is gone: nothing happens
  Waker clone = *kept;
  std::move(clone).wake();
  kept.reset();  // the last reference frees the task
  EXPECT_EQ(gate->polls.load(), 1);
}

TEST(LocalPoolTest, DroppingThePoolDestroysPendingTasks) {
  std::atomic<int> drops{0};
  {
    LocalPool pool;
    for (int i = 0; i < 3; ++i) {
      pool.spawner().spawn_local(
          poll_fn([d = std::make_shared<DropCounter>(&drops)](Context&) -> Poll<Unit> {
            return Pending;
          }));
    }
    pool.run_until_stalled();
    pool.spawner().spawn_local(  // never polled at all
        poll_fn([d = std::make_shared<DropCounter>(&drops)](Context&) -> Poll<Unit> {
          return Pending;
        }));
    EXPECT_EQ(drops.load(), 0);
  }
  EXPECT_EQ(drops.load(), 4);
}

TEST(LocalPoolTest, SpawnOnDroppedPoolFails) {
  auto pool = std::make_unique<LocalPool>();
  LocalSpawner spawner = pool->spawner();
  pool.reset();
  try {
    spawner.spawn_local(ready(Unit{}));
    FAIL() << "spawn on a dropped pool must throw";
  } catch (const SpawnError& e) {
    EXPECT_TRUE(e.is_shutdown());
  }
}

TEST(LocalPoolTest, SpawnFromAnotherThreadFails) {
  LocalPool pool;
  LocalSpawner spawner = pool.spawner();
  bool refused = false, shutdown = true;
  std::thread t([&] {
    try {
      spawner.spawn_local(ready(Unit{}));
    } catch (const SpawnError& e) {
      refused = true;
      shutdown = e.is_shutdown();
    }
  });
  t.join();
  EXPECT_TRUE(refused);
  EXPECT_FALSE(shutdown);
}

TEST(LocalPoolTest, RunFromAnotherThreadIsRefused) {
  LocalPool pool;
  bool refused = false;
  std::thread t([&] {
    try {
      pool.run_until_stalled();
    } catch (const std::logic_error&) {
      refused = true;
    }
  });
  t.join();
  EXPECT_TRUE(refused);
}

TEST(LocalPoolTest, ExceptionPropagatesAndPoolStaysUsable) {
  LocalPool pool;
  std::atomic<int> drops{0};
  int other = 0;
  pool.spawner().spawn_local(
      poll_fn([d = std::make_shared<DropCounter>(&drops)](Context&) -> Poll<Unit> {
        throw std::runtime_error("task failed");
      }));
  pool.spawner().spawn_local(CountPolls{&other, 1});
  EXPECT_THROW(pool.run_until_stalled(), std::runtime_error);
  EXPECT_EQ(drops.load(), 1) << "the throwing task is dropped";
  EXPECT_FALSE(is_entered());
  pool.run_until_stalled();  // the other task is still there, and runs
  EXPECT_EQ(other, 1);
  pool.spawner().spawn_local(CountPolls{&other, 2});
  pool.run_until_stalled();
  EXPECT_EQ(other, 2);
}

TEST(LocalPoolTest, BlockOnInsideTaskIsRefused) {
  LocalPool pool;
  bool refused = false;
  pool.spawner().spawn_local(poll_fn([&](Context&) -> Poll<Unit> {
    try {
      block_on(ready(1));
    } catch (const EnterError&) {
      refused = true;
    }
    return Ready();
  }));
  pool.run();
  EXPECT_TRUE(refused);
}

TEST(LocalPoolTest, RunningThePoolInsideItsTaskIsRefused) {
  LocalPool pool;
  pool.spawner().spawn_local(poll_fn([&](Context&) -> Poll<Unit> {
    pool.run_until_stalled();  // throws EnterError out of the task
    return Ready();
  }));
  EXPECT_THROW(pool.run_until_stalled(), EnterError);
  EXPECT_FALSE(is_entered());
}

TEST(LocalPoolTest, WakeFromAnotherThreadWakesARunningPool) {
  LocalPool pool;
  auto gate = std::make_shared<Gate>();
  pool.spawner().spawn_local(GateFuture<>(gate));
  Watchdog dog("lost wakeup", kDeadline, [&] { gate->open_and_wake(); });
  bool polled = false;
  std::thread t([&] {
    polled = gate->wait_for_waker();  // bounded: until the task's first poll parked
    gate->open_and_wake();
  });
  pool.run();  // parks until the other thread wakes the task
  t.join();
  dog.stop();
  EXPECT_TRUE(polled) << "the task's first poll stored no waker before the deadline";
  EXPECT_FALSE(dog.stalled()) << "lost wakeup";
  EXPECT_EQ(gate->polls.load(), 2);
}

TEST(LocalPoolTest, HandleGivesTheOutput) {
  LocalPool pool;
  RemoteHandle<int> h = pool.spawner().spawn_local_with_handle(ready(11));
  EXPECT_EQ(pool.run_until(std::move(h)), 11);
}

TEST(LocalPoolTest, HandleAwaitedByAnotherTask) {
  LocalPool pool;
  LocalSpawner spawner = pool.spawner();
  auto gate = std::make_shared<Gate>();
  auto handle = spawner.spawn_local_with_handle(GateFuture<int>(gate, 4));
  std::optional<int> got;
  spawner.spawn_local(poll_fn([&, h = std::move(handle)](Context& cx) mutable -> Poll<Unit> {
    Poll<int> p = h.poll(cx);
    if (p.is_pending()) return Pending;
    got = p.value();
    return Ready();
  }));
  pool.run_until_stalled();
  EXPECT_FALSE(got);
  gate->open_and_wake();
  pool.run_until_stalled();
  EXPECT_EQ(got, 4);
}

TEST(LocalPoolTest, HandleRethrowsTheTaskException) {
  LocalPool pool;
  auto h = pool.spawner().spawn_local_with_handle(
      poll_fn([](Context&) -> Poll<int> { throw std::runtime_error("inside"); }));
  pool.run_until_stalled();  // does not throw: the handle keeps the exception
  EXPECT_THROW(block_on(h), std::runtime_error);
  EXPECT_THROW(block_on(h), FuturePolledAfterCompletion);
}

TEST(LocalPoolTest, DroppingTheHandleCancelsTheTask) {
  LocalPool pool;
  auto gate = std::make_shared<Gate>();
  {
    auto h = pool.spawner().spawn_local_with_handle(GateFuture<>(gate));
    pool.run_until_stalled();
    EXPECT_EQ(gate->polls.load(), 1);
  }
  pool.run_until_stalled();
  EXPECT_EQ(gate->drops.load(), 1) << "the cancelled task's future is dropped";
  EXPECT_EQ(gate->polls.load(), 1) << "and not polled again";
}

TEST(LocalPoolTest, ForgottenHandleLetsTheTaskFinish) {
  LocalPool pool;
  auto gate = std::make_shared<Gate>();
  std::move(pool.spawner().spawn_local_with_handle(GateFuture<>(gate))).forget();
  pool.run_until_stalled();
  gate->open_and_wake();
  pool.run_until_stalled();
  EXPECT_EQ(gate->polls.load(), 2);
}

TEST(LocalPoolTest, HandleOfADroppedPoolThrowsTaskCanceled) {
  auto gate = std::make_shared<Gate>();
  std::optional<RemoteHandle<Unit>> h;
  {
    LocalPool pool;
    h.emplace(pool.spawner().spawn_local_with_handle(GateFuture<>(gate)));
    pool.run_until_stalled();
  }
  EXPECT_THROW(block_on(*h), TaskCanceled);
}


TEST(LocalPoolTest, TasksRunInSpawnOrder) {
  LocalPool pool;
  Log log;
  for (const char* name : {"a", "b", "c", "d"}) {
    pool.spawner().spawn_local(YieldFuture(0, name, &log));
  }
  pool.run();
  EXPECT_EQ(log, (Log{"a", "b", "c", "d"}));
}

TEST(LocalPoolTest, RunUntilMainFutureWokenFromAnotherThread) {
  LocalPool pool;
  auto gate = std::make_shared<Gate>();
  Watchdog dog("lost wakeup", kDeadline, [&] { gate->open_and_wake(); });
  bool polled = false;
  std::thread t([&] {
    polled = gate->wait_for_waker();  // bounded: until the main future's first poll parked
    gate->open_and_wake();
  });
  int v = pool.run_until(GateFuture<int>(gate, 3));  // parks until t wakes it
  t.join();
  dog.stop();
  EXPECT_TRUE(polled) << "the main future's first poll stored no waker before the deadline";
  EXPECT_FALSE(dog.stalled()) << "lost wakeup of run_until's main future";
  EXPECT_EQ(v, 3);
  EXPECT_EQ(gate->polls.load(), 2);
}

TEST(LocalPoolTest, DroppingTheHandleOnAnotherThreadCancelsTheTask) {
  LocalPool pool;
  auto gate = std::make_shared<Gate>();
  auto h = pool.spawner().spawn_local_with_handle(GateFuture<>(gate));
  pool.run_until_stalled();
  std::thread t([h = std::move(h)]() mutable { RemoteHandle<Unit> gone = std::move(h); });
  t.join();
  pool.run_until_stalled();  // the cancel arrived as a remote wake
  EXPECT_EQ(gate->drops.load(), 1);
  EXPECT_EQ(gate->polls.load(), 1);
}

// Rust's borrow checker forbids dropping a LocalPool from inside one of its
// tasks; pollwake defines the outcome: abort with a message.
TEST(LocalPoolDeathTest, DestroyingThePoolFromItsOwnTaskAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        auto* pool = new LocalPool;
        pool->spawner().spawn_local(poll_fn([pool](Context&) -> Poll<Unit> {
          delete pool;
          return Ready();
        }));
        pool->run();
      },
      "destroyed while it was running");
}

// Rust's LocalPool is !Send: it is dropped on the thread that made it.
// pollwake defines the outcome of dropping it elsewhere: abort with a message.
TEST(LocalPoolDeathTest, DestroyingThePoolOnAnotherThreadAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        auto* pool = new LocalPool;
        std::thread([pool] { delete pool; }).join();
      },
      "destroyed on a thread other than the one that created it");
}

// run_until polls an lvalue future in place, as block_on does: the caller's
// object is the one polled (no copy), and it keeps its state afterwards.
TEST(LocalPoolTest, RunUntilPollsAnLvalueInPlace) {
  struct Counting {
    using Output = int;
    int polls = 0;
    Poll<int> poll(Context& cx) {
      ++polls;
      if (polls < 3) {
        cx.waker().wake_by_ref();
        return Pending;
      }
      return Ready(polls);
    }
  };
  LocalPool pool;
  Counting fut;
  EXPECT_EQ(pool.run_until(fut), 3);
  EXPECT_EQ(fut.polls, 3);  // the caller's object was the one polled (a copy
                            // would have left it at 0)
}

}  // namespace
}  // namespace pollwake
