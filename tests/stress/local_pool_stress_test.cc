// tests/stress/local_pool_stress_test.cc: LocalPool under races (bounded).
//
// A LocalPool runs on one thread, but its wakers may be woken from any: the
// races here are remote wakes (the lock-free stack the pool drains) against
// the run loop's passes and its park, wakers that outlive the pool, spawns
// from tasks as the pool is dropped, and exceptions from polls. A lost
// wakeup leaves run() parked: the watchdog wakes every task by hand after
// kStallSeconds and the test FAILS. The non-blocking calls are checked
// with a deadline instead. Single-threaded schedules are explored by the
// schedule fuzzer (tests/fuzz/).
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "executor/local_pool.h"
#include "executor/spawn_error.h"
#include "gtest/gtest.h"
#include "poll/context.h"
#include "poll/poll.h"
#include "poll/ready.h"
#include "poll/waker.h"
#include "tests/stress/counted_future.h"
#include "tests/stress/stress_util.h"

namespace pollwake {
namespace {

using stress::CountedFuture;
using stress::PollScope;
using stress::Probe;
using stress::Produce;
using stress::Scaled;
using stress::Slot;

// Producers on other threads wake the pool's tasks while run() polls and
// parks: run() returns once every task completed (no lost wakeup).
TEST(LocalPoolStressTest, RemoteWakeStormWhileRunParks) {
  stress::Watchdog dog("LocalPool remote wake storm");
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
          stress::WaitFor([&] { return stress::AllPolledOnce(slots); });
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
  stress::Watchdog dog("LocalPool run_until_stalled storm");
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
    bool all = stress::WaitFor([&] {
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
  stress::Watchdog dog("LocalPool wakers outliving the pool");
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
  stress::Watchdog dog("LocalPool spawn during drop");
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
          slot->waker.emplace(cx.waker());
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
  stress::Watchdog dog("LocalPool exceptions");
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
              slot->waker.emplace(cx.waker());
            }
            if (polls == 1) return Pending;      // woken by the producer
            if (throws) throw Boom();
            probe.completed.fetch_add(1);
            return Ready(polls);
          }));
    }
    dog.on_stall([&slots] { stress::WakeAll(slots); });
    std::thread producer([&] {
      stress::WaitFor([&] { return stress::AllPolledOnce(slots); });
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

}  // namespace
}  // namespace pollwake
