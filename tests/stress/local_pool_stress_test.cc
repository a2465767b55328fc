// tests/stress/local_pool_stress_test.cc: LocalPool under races (bounded).
//
// A LocalPool runs on one thread, but its wakers may be woken from any: the
// races here are many threads waking tasks, remote wakes (the lock-free stack
// the pool drains) against the run loop's passes and its park, wakes racing
// completion and the pool's drop, wakers that outlive the pool, spawns from
// tasks as the pool is dropped, exceptions from polls, and a handle awaited
// from another thread. A lost wakeup leaves run() parked: the watchdog wakes
// the tasks by hand after the deadline and the test FAILS. The non-blocking
// calls are checked with a deadline instead. Sizes shrink under the
// sanitizers (tests/support/sanitizer_scale.h) but every race still runs
// thousands of times. Single-threaded schedules are explored by the schedule
// fuzzer (tests/fuzz/).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "executor/block_on.h"
#include "executor/local_pool.h"
#include "executor/spawn_error.h"
#include "poll/context.h"
#include "poll/poll.h"
#include "poll/ready.h"
#include "poll/waker.h"
#include "tests/stress/counted_future.h"
#include "tests/stress/stress_util.h"
#include "tests/support/deadline.h"
#include "tests/support/drop_counter.h"
#include "tests/support/gate.h"
#include "tests/support/sanitizer_scale.h"
#include "tests/support/watchdog.h"

namespace pollwake {
namespace {

using stress::CountedFuture;
using stress::PollScope;
using stress::Probe;
using stress::Produce;
using stress::Slot;
using testing::Gate;
using testing::GateFuture;
using testing::Scaled;
using testing::Watchdog;
using testing::kDeadline;

// Producers on other threads wake the pool's tasks while run() polls and
// parks: run() returns once every task completed (no lost wakeup).
TEST(LocalPoolStressTest, RemoteWakeStormWhileRunParks) {
  testing::Watchdog dog("LocalPool remote wake storm");
  const int iterations = Scaled(60, 6);
  constexpr int kTasks = 32;
  constexpr int kProducers = 3;
  const int rounds = Scaled(30, 5);
  for (int it = 0; it < iterations; ++it) {
    dog.tick("iteration " + std::to_string(it));
    Probe probe;
    std::vector<std::shared_ptr<Slot>> slots;
    {
      LocalPool pool;
      for (int t = 0; t < kTasks; ++t) {
        slots.push_back(std::make_shared<Slot>());
        pool.spawner().spawn_local(CountedFuture(&probe, slots.back(), kProducers * rounds));
      }
      dog.on_stall([&slots] { stress::WakeAll(slots); });
      std::vector<std::thread> producers;
      for (int p = 0; p < kProducers; ++p) {
        producers.emplace_back([&slots, p, rounds] {
          // Wait until run() has polled every task once, then race it.
          testing::eventually([&] { return stress::AllPolledOnce(slots); });
          Produce(slots, p, rounds);
        });
      }
      pool.run();  // returns when no task is left
      for (auto& t : producers) t.join();
      dog.on_stall(nullptr);
      ASSERT_FALSE(dog.stalled()) << "lost wakeup: run() stayed parked with unfinished tasks "
                                  << "until the watchdog woke them by hand (iteration " << it
                                  << ")";
      ASSERT_EQ(probe.completed.load(), kTasks);
    }
    EXPECT_EQ(probe.polls_after_ready.load(), 0);
    EXPECT_EQ(probe.overlapping_polls.load(), 0);
    EXPECT_EQ(probe.live(), 0) << "futures not destroyed exactly once";
  }
}

// The same storm driven by the calls that never sleep: run_until_stalled and
// try_run_one, in turns, until every task completed (with a deadline).
TEST(LocalPoolStressTest, RunUntilStalledAndTryRunOneRacingRemoteWakes) {
  testing::Watchdog dog("LocalPool run_until_stalled storm");
  const int iterations = Scaled(40, 4);
  constexpr int kTasks = 32;
  constexpr int kProducers = 2;
  const int rounds = Scaled(30, 5);
  for (int it = 0; it < iterations; ++it) {
    dog.tick("iteration " + std::to_string(it));
    Probe probe;
    std::vector<std::shared_ptr<Slot>> slots;
    LocalPool pool;
    for (int t = 0; t < kTasks; ++t) {
      slots.push_back(std::make_shared<Slot>());
      pool.spawner().spawn_local(CountedFuture(&probe, slots.back(), kProducers * rounds));
    }
    pool.run_until_stalled();  // every task polled once: wakers stored
    ASSERT_TRUE(stress::AllPolledOnce(slots)) << "run_until_stalled left a spawned task unpolled";
    std::vector<std::thread> producers;
    for (int p = 0; p < kProducers; ++p) {
      producers.emplace_back([&slots, p, rounds] { Produce(slots, p, rounds); });
    }
    bool all = testing::eventually([&] {
      if (it % 2 == 0) {
        pool.run_until_stalled();
      } else {
        while (pool.try_run_one()) {
        }
      }
      return probe.completed.load() == kTasks;
    });
    for (auto& t : producers) t.join();
    if (!all) {
      // The producers are done: every event happened and was followed by a
      // wake. One more call must finish everything.
      pool.run_until_stalled();
      ASSERT_EQ(probe.completed.load(), kTasks)
          << "lost wakeup: tasks that saw every event and were woken never completed";
    }
    EXPECT_EQ(probe.polls_after_ready.load(), 0);
  }
}

// Tasks hand clones of their wakers to other threads, which keep cloning,
// waking and dropping them while the pool is dropped, and after. Dropping
// the pool destroys every unfinished future at once; later wakes do nothing.
TEST(LocalPoolStressTest, WakersOutliveTheirPool) {
  testing::Watchdog dog("LocalPool wakers outliving the pool");
  const int iterations = Scaled(100, 10);
  for (int it = 0; it < iterations; ++it) {
    dog.tick("iteration " + std::to_string(it));
    Probe probe;
    std::vector<std::shared_ptr<Slot>> slots;
    std::atomic<bool> stop{false};
    auto pool = std::make_unique<LocalPool>();
    for (int t = 0; t < 16; ++t) {
      slots.push_back(std::make_shared<Slot>());
      pool->spawner().spawn_local(CountedFuture(&probe, slots.back(), 1 << 30));  // never ready
    }
    pool->run_until_stalled();
    std::vector<std::thread> wakers;
    for (int w = 0; w < 2; ++w) {
      wakers.emplace_back([&] {
        while (!stop.load()) {
          for (auto& s : slots) {
            if (auto c = s->clone_waker()) {
              Waker extra = *c;
              c->wake_by_ref();
              std::move(extra).wake();
            }
          }
        }
      });
    }
    for (int k = 0; k < it % 5; ++k) pool->run_until_stalled();
    pool.reset();  // drops the pool while the wakes fly
    EXPECT_EQ(probe.live(), 0) << "dropping the pool left futures alive";
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // wakes after the drop
    stop = true;
    for (auto& t : wakers) t.join();
    slots.clear();  // the last wakers: the tasks' memory goes now (ASan checks)
    EXPECT_EQ(probe.polls_after_ready.load(), 0);
  }
}

// Tasks spawn tasks (two levels deep) from inside their polls while another
// thread wakes them, and the pool is dropped with some of them queued: every
// future is destroyed exactly once, and spawning on the dropped pool's
// spawner throws SpawnError.
TEST(LocalPoolStressTest, TasksSpawnTasksWhileThePoolIsDropped) {
  testing::Watchdog dog("LocalPool spawn during drop");
  const int iterations = Scaled(200, 20);
  for (int it = 0; it < iterations; ++it) {
    dog.tick("iteration " + std::to_string(it));
    auto probe = std::make_shared<Probe>();
    auto slot = std::make_shared<Slot>();
    std::atomic<bool> stop{false};
    auto pool = std::make_unique<LocalPool>();
    LocalSpawner spawner = pool->spawner();
    struct Parent {
      using Output = int;
      LocalSpawner spawner;
      std::shared_ptr<Probe> probe;
      std::shared_ptr<Slot> slot;
      int depth;
      bool live = true;
      Parent(LocalSpawner s, std::shared_ptr<Probe> p, std::shared_ptr<Slot> sl, int d)
          : spawner(std::move(s)), probe(std::move(p)), slot(std::move(sl)), depth(d) {
        probe->created.fetch_add(1);
      }
      Parent(Parent&& o) noexcept
          : spawner(o.spawner), probe(o.probe), slot(o.slot), depth(o.depth),
            live(std::exchange(o.live, false)) {}
      ~Parent() {
        if (live) probe->destroyed.fetch_add(1);
      }
      Poll<int> poll(Context& cx) {
        probe->polls.fetch_add(1);
        if (depth < 2) {
          for (int c = 0; c < 2; ++c) spawner.spawn_local(Parent(spawner, probe, slot, depth + 1));
        }
        {
          std::lock_guard lock(slot->mu);
          slot->waker.update(cx.waker());
        }
        return Pending;  // never ready: the pool's drop destroys it
      }
    };
    std::thread waker([&] {
      while (!stop.load()) {
        if (auto w = slot->clone_waker()) w->wake_by_ref();
        std::this_thread::yield();
      }
    });
    spawner.spawn_local(Parent(spawner, probe, slot, 0));
    for (int k = 0; k < it % 4; ++k) pool->try_run_one();
    pool.reset();
    EXPECT_EQ(probe->live(), 0) << "iteration " << it << ": the pool's drop left futures alive";
    bool refused = false;
    try {
      spawner.spawn_local(ready(1));
    } catch (const SpawnError& e) {
      refused = e.is_shutdown();
    }
    EXPECT_TRUE(refused) << "spawning on a dropped pool did not throw SpawnError::shutdown";
    stop = true;
    waker.join();
  }
}

struct Boom : std::runtime_error {
  Boom() : std::runtime_error("boom from a LocalPool task") {}
};

// Tasks throw from poll while other threads wake them: each exception comes
// out of run() once, the thrown task is dropped, and run() called again
// carries on with the rest until every task is done.
TEST(LocalPoolStressTest, ExceptionsFromPollWhileRemoteWakesRace) {
  testing::Watchdog dog("LocalPool exceptions");
  const int iterations = Scaled(100, 10);
  for (int it = 0; it < iterations; ++it) {
    dog.tick("iteration " + std::to_string(it));
    Probe probe;
    constexpr int kTasks = 24;
    std::vector<std::shared_ptr<Slot>> slots;
    LocalPool pool;
    int throwers = 0;
    for (int t = 0; t < kTasks; ++t) {
      slots.push_back(std::make_shared<Slot>());
      auto slot = slots.back();
      bool throws = t % 3 == 0;
      throwers += throws;
      pool.spawner().spawn_local(
          poll_fn([slot, throws, &probe, polls = 0](Context& cx) mutable -> Poll<int> {
            ++polls;
            {
              std::lock_guard lock(slot->mu);
              slot->waker.update(cx.waker());
            }
            if (polls == 1) return Pending;      // woken by the producer
            if (throws) throw Boom();
            probe.completed.fetch_add(1);
            return Ready(polls);
          }));
    }
    dog.on_stall([&slots] { stress::WakeAll(slots); });
    std::thread producer([&] {
      testing::eventually([&] { return stress::AllPolledOnce(slots); });
      stress::WakeAll(slots);
    });
    int caught = 0;
    for (int guard = 0; guard <= kTasks; ++guard) {
      try {
        pool.run();
        break;
      } catch (const Boom&) {
        ++caught;
      }
    }
    producer.join();
    dog.on_stall(nullptr);
    ASSERT_FALSE(dog.stalled()) << "lost wakeup: run() stayed parked (iteration " << it << ")";
    EXPECT_EQ(caught, throwers);
    EXPECT_EQ(probe.completed.load(), kTasks - throwers);
  }
}

// Each of kThreads threads wakes every one of kTasks tasks, 10^5 times per
// thread (scaled), bumping the task's counter first. A task is Ready once it
// has seen all bumps; pool.run() returns only if no wake was lost.
TEST(LocalPoolStressTest, ManyThreadsWakingTasksLoseNoWake) {
  constexpr int kThreads = 3;
  constexpr int kTasks = 3;
  const int per_thread = Scaled(100000);
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
  Watchdog dog("lost wakeup", kDeadline * 2, [&] {
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
  const int rounds = Scaled(20000);
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
  Watchdog dog("lost wakeup", kDeadline * 2, [&] {
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
  const int rounds = Scaled(400);
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
  const int rounds = Scaled(2000);
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
    Watchdog dog("lost wakeup", kDeadline, [&] {
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
