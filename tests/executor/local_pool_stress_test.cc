// tests/executor/local_pool_stress_test.cc: bounded races on LocalPool's
// wake path: many threads waking tasks, wakes racing completion, wakes
// racing the pool's drop, wakers outliving the pool, a handle awaited from
// another thread. A lost wakeup fails the test through a watchdog (it
// reports, then unblocks the test) instead of hanging it. Sizes shrink under
// ThreadSanitizer (kStressScale) but every race still runs thousands of times.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "executor/block_on.h"
#include "executor/local_pool.h"
#include "poll/ready.h"
#include "tests/executor/test_support.h"

namespace pollwake {
namespace {

using testing::Gate;
using testing::GateFuture;
using testing::kLostWakeupDeadline;
using testing::kStressScale;
using testing::Watchdog;

// Each of kThreads threads wakes every one of kTasks tasks, 10^5 times per
// thread (scaled), bumping the task's counter first. A task is Ready once it
// has seen all bumps; pool.run() returns only if no wake was lost.
TEST(LocalPoolStressTest, ManyThreadsWakingTasksLoseNoWake) {
  constexpr int kThreads = 3;
  constexpr int kTasks = 3;
  const int per_thread = 100000 / kStressScale;
  LocalPool pool;
  std::vector<std::atomic<int>> sent(kTasks);
  std::vector<int> polls(kTasks, 0);
  std::vector<std::optional<Waker>> wakers(kTasks);
  std::atomic<bool> rescued{false};
  for (int k = 0; k < kTasks; ++k) {
    pool.spawner().spawn_local(poll_fn([&, k](Context& cx) -> Poll<Unit> {
      ++polls[k];
      if (!wakers[k]) wakers[k].emplace(cx.waker());
      if (rescued.load() || sent[k].load() == kThreads * per_thread) return Ready();
      return Pending;
    }));
  }
  pool.run_until_stalled();  // first polls: the wakers are stored
  std::vector<Waker> main_clones;
  for (auto& w : wakers) main_clones.push_back(*w);
  Watchdog dog(kLostWakeupDeadline * 2, [&] {
    rescued = true;
    for (auto& w : main_clones) w.wake_by_ref();
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, clones = main_clones]() {
      for (int i = 0; i < per_thread; ++i) {
        for (int k = 0; k < kTasks; ++k) {
          sent[k].fetch_add(1);
          clones[k].wake_by_ref();
        }
      }
    });
  }
  pool.run();
  for (auto& t : threads) t.join();
  dog.stop();
  EXPECT_FALSE(rescued.load()) << "lost wakeup: the pool slept with a task woken";
  for (int k = 0; k < kTasks; ++k) {
    EXPECT_EQ(sent[k].load(), kThreads * per_thread);
    EXPECT_GE(polls[k], 2);
    EXPECT_LE(polls[k], kThreads * per_thread + 1) << "a poll per wake at most";
  }
}

// One helper thread wakes each round's task a few times, right as the pool
// completes it: the extra wakes race kDone and the last references.
TEST(LocalPoolStressTest, WakesRaceCompletion) {
  const int rounds = 20000 / kStressScale;
  constexpr int kWakesPerRound = 4;
  LocalPool pool;
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Waker> handoff;  // under mu
  int handed = 0, handled = 0;   // under mu
  bool stop = false;             // under mu
  std::atomic<int> fired{0};
  std::atomic<int> drops{0};
  std::atomic<bool> rescued{false};
  std::thread helper([&] {
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      cv.wait(lock, [&] { return stop || handed > handled; });
      if (stop) return;
      Waker w = std::move(*handoff);
      handoff.reset();
      lock.unlock();
      for (int i = 0; i < kWakesPerRound; ++i) {
        fired.fetch_add(1);
        w.wake_by_ref();
      }
      lock.lock();
      ++handled;
      cv.notify_all();
    }  // `w` dropped before the next round: it races the task's release
  });
  std::optional<Waker> current;  // the watchdog's way in (main thread only)
  std::mutex current_mu;
  Watchdog dog(kLostWakeupDeadline * 2, [&] {
    rescued = true;
    std::lock_guard<std::mutex> lock(current_mu);
    if (current) current->wake_by_ref();
  });
  for (int r = 0; r < rounds && !rescued.load(); ++r) {
    int target = fired.load() + 1;
    pool.spawner().spawn_local(poll_fn(
        [&, target, d = std::make_shared<testing::DropCounter>(&drops)](Context& cx) -> Poll<Unit> {
          if (rescued.load() || fired.load() >= target) return Ready();
          {
            std::lock_guard<std::mutex> lock(current_mu);
            current.emplace(cx.waker());
          }
          std::lock_guard<std::mutex> lock(mu);
          if (!handoff && handed == handled) {
            handoff.emplace(cx.waker());
            ++handed;
            cv.notify_all();
          }
          return Pending;
        }));
    pool.run();
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return handed == handled; });
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    stop = true;
  }
  cv.notify_all();
  helper.join();
  dog.stop();
  {
    std::lock_guard<std::mutex> lock(current_mu);
    current.reset();
  }
  EXPECT_FALSE(rescued.load()) << "lost wakeup while wakes raced completion";
  EXPECT_EQ(drops.load(), rounds) << "every task's future dropped exactly once";
}

// Threads keep waking (and cloning, and dropping clones of) a pool's task
// wakers while the main thread runs the pool a little and then drops it; the
// wakers outlive the pool. Nothing waits on a wake here, so nothing can hang;
// ASan and TSan check the memory and the races.
TEST(LocalPoolStressTest, WakesRacePoolDropAndWakersOutliveIt) {
  const int rounds = 400 / kStressScale;
  constexpr int kTasks = 4;
  constexpr int kThreads = 2;
  std::atomic<int> drops{0};
  int expected_drops = 0;
  for (int r = 0; r < rounds; ++r) {
    std::vector<std::shared_ptr<Gate>> gates;
    std::vector<Waker> wakers;
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    {
      auto pool = std::make_unique<LocalPool>();
      for (int k = 0; k < kTasks; ++k) {
        gates.push_back(std::make_shared<Gate>());
        pool->spawner().spawn_local(GateFuture<>(gates.back()));
      }
      pool->run_until_stalled();
      for (auto& g : gates) wakers.push_back(*g->clone_waker());
      for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&go, clones = wakers, r] {
          while (!go.load()) std::this_thread::yield();
          for (int i = 0; i < 200; ++i) {
            const Waker& w = clones[(i + r) % clones.size()];
            if (i % 3 == 0) {
              Waker(w).wake();  // clone + consuming wake
            } else {
              w.wake_by_ref();
            }
          }
        });  // the clones are dropped when the thread ends, after the pool
      }
      go = true;
      if (r % 2 == 0) pool->run_until_stalled();
      gates[0]->open_and_wake();  // one task may finish, the others are dropped
      pool->run_until_stalled();
    }  // the pool is dropped while the threads may still be waking
    for (auto& t : threads) t.join();
    wakers.clear();
    for (auto& g : gates) drops += g->drops.load();
    expected_drops += kTasks;
  }
  EXPECT_EQ(drops.load(), expected_drops) << "every future dropped exactly once";
}

// A handle awaited with block_on on another thread while the pool finishes
// the task: the handle's waker crosses threads both ways.
TEST(LocalPoolStressTest, HandleAwaitedFromAnotherThread) {
  const int rounds = 2000 / kStressScale;
  LocalPool pool;
  int sum = 0;
  for (int r = 0; r < rounds; ++r) {
    auto gate = std::make_shared<Gate>();
    auto handle = pool.spawner().spawn_local_with_handle(GateFuture<int>(gate, r));
    std::atomic<bool> rescued{false};
    std::atomic<int> got{-1};
    std::optional<Waker> blocker;  // block_on's waker, for the watchdog
    std::mutex blocker_mu;
    std::thread waiter([&] {
      got = block_on(poll_fn([&](Context& cx) -> Poll<int> {
        {
          std::lock_guard<std::mutex> lock(blocker_mu);
          if (!blocker) blocker.emplace(cx.waker());
        }
        if (rescued.load()) return Ready(-2);
        return handle.poll(cx);
      }));
    });
    Watchdog dog(kLostWakeupDeadline, [&] {
      rescued = true;
      std::lock_guard<std::mutex> lock(blocker_mu);
      if (blocker) blocker->wake_by_ref();
    });
    pool.run_until_stalled();
    gate->open_and_wake();
    pool.run();
    waiter.join();
    dog.stop();
    ASSERT_FALSE(rescued.load()) << "lost wakeup in round " << r;
    ASSERT_EQ(got.load(), r);
    sum += got.load();
  }
  EXPECT_EQ(sum, rounds * (rounds - 1) / 2);
}

}  // namespace
}  // namespace pollwake
