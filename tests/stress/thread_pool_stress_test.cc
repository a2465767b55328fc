// tests/stress/thread_pool_stress_test.cc: ThreadPool under races (bounded).
//
// Many wakers on many tasks, wakes racing polls, completion and shutdown,
// wakers outliving the pool, spawns from many threads and from tasks,
// exceptions from polls. Most futures here count their polls, overlapping
// polls (two workers at once), polls after Ready and destructions
// (stress::Probe). A lost wakeup leaves a task unfinished: the tests wait
// with a deadline and FAIL with what is still waiting; ASan and TSan check
// the memory and the orderings. The task state machine these races exercise
// is model-checked in tests/model/thread_pool.pml.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "executor/block_on.h"
#include "executor/thread_pool.h"
#include "poll/box_future.h"
#include "poll/context.h"
#include "poll/poll.h"
#include "poll/ready.h"
#include "poll/waker.h"
#include "poll/waker_fn.h"
#include "tests/stress/counted_future.h"
#include "tests/stress/stress_util.h"
#include "tests/support/deadline.h"
#include "tests/support/drive.h"
#include "tests/support/drop_counter.h"
#include "tests/support/gate.h"
#include "tests/support/latch.h"
#include "tests/support/watchdog.h"

namespace pollwake {
namespace {

using stress::CountedFuture;
using stress::PollScope;
using stress::Probe;
using stress::Produce;
using stress::Slot;
using testing::DropCounter;
using testing::Latch;
using testing::Scaled;
using testing::WakerSlot;
using testing::Watchdog;
using testing::eventually;
using testing::kDeadline;
using testing::wait_output;

ThreadPool MakePool(std::size_t n, std::atomic<int>* panics = nullptr) {
  ThreadPoolBuilder b;
  b.pool_size(n);
  if (panics != nullptr) {
    b.panic_handler([panics](std::exception_ptr) { panics->fetch_add(1); });
  }
  return b.create();
}

// Several threads wake many tasks while workers poll them: every task
// completes (no lost wakeup), no task is polled by two workers at once or
// after Ready, and every future is destroyed once.
TEST(ThreadPoolStressTest, WakeStormFromSeveralThreadsRacingPolls) {
  testing::Watchdog dog("ThreadPool wake storm");
  const int iterations = Scaled(100, 10);
  constexpr int kTasks = 64;
  constexpr int kProducers = 3;
  const int rounds = Scaled(30, 5);
  for (int it = 0; it < iterations; ++it) {
    dog.tick("iteration " + std::to_string(it));
    Probe probe;
    std::vector<std::shared_ptr<Slot>> slots;
    {
      ThreadPool pool = MakePool(3);  // more workers than cores: more preemption
      for (int t = 0; t < kTasks; ++t) {
        slots.push_back(std::make_shared<Slot>());
        pool.spawn_ok(CountedFuture(&probe, slots.back(), kProducers * rounds));
      }
      // Every task has been polled once and stored its waker, so from here
      // on every event comes with a wake that races the workers' polls.
      ASSERT_TRUE(testing::eventually([&] {
        for (auto& s : slots) {
          if (!s->clone_waker()) return false;
        }
        return true;
      })) << "a spawned task was never polled";
      std::vector<std::thread> producers;
      for (int p = 0; p < kProducers; ++p) {
        producers.emplace_back([&slots, p, rounds] { Produce(slots, p, rounds); });
      }
      for (auto& t : producers) t.join();
      bool all = testing::eventually([&] { return probe.completed.load() == kTasks; });
      ASSERT_TRUE(all) << "lost wakeup: " << kTasks - probe.completed.load()
                       << " task(s) saw every event and were woken, but never completed "
                       << "(iteration " << it << ")";
    }  // the pool shuts down here
    EXPECT_EQ(probe.overlapping_polls.load(), 0) << "a task was polled by two workers at once";
    EXPECT_EQ(probe.polls_after_ready.load(), 0) << "a task was polled after Ready";
    EXPECT_EQ(probe.live(), 0) << "futures not destroyed exactly once";
    // Each task is polled at least once and at most once per wake plus one.
    EXPECT_LE(probe.polls.load(), kTasks * (kProducers * rounds + 2));
    // The wakes did race polls: tasks were polled again after their first
    // Pending (if not, the test would check nothing).
    EXPECT_GT(probe.polls.load(), kTasks) << "no task was ever re-polled";
  }
}

// A task that wakes itself from inside every poll (the REPOLL path) while
// other threads wake it too: it completes, and is never polled concurrently.
TEST(ThreadPoolStressTest, WakeDuringPollRacingForeignWakes) {
  testing::Watchdog dog("ThreadPool wake during poll");
  Probe probe;
  constexpr int kTasks = 16;
  const int polls_needed = Scaled(3000, 300);
  std::vector<std::shared_ptr<Slot>> slots;
  std::atomic<bool> stop{false};
  {
    ThreadPool pool = MakePool(2);
    for (int t = 0; t < kTasks; ++t) {
      slots.push_back(std::make_shared<Slot>());
      auto slot = slots.back();
      auto polls = std::make_shared<int>(0);
      pool.spawn_ok(poll_fn([slot, polls, polls_needed, &probe,
                             in_poll = std::make_shared<std::atomic<bool>>(false)](
                                Context& cx) -> Poll<int> {
        PollScope scope(*in_poll, probe);
        {
          std::lock_guard lock(slot->mu);
          slot->waker.update(cx.waker());
        }
        if (++*polls >= polls_needed) {
          probe.completed.fetch_add(1);
          return Ready(*polls);
        }
        cx.waker().wake_by_ref();  // during the poll: REPOLL
        return Pending;
      }));
    }
    std::thread foreign([&] {
      while (!stop.load()) {
        for (auto& s : slots) {
          if (auto w = s->clone_waker()) w->wake_by_ref();
        }
        std::this_thread::yield();
      }
    });
    bool all = testing::eventually([&] { return probe.completed.load() == kTasks; });
    stop = true;
    foreign.join();
    ASSERT_TRUE(all) << "lost wakeup: " << kTasks - probe.completed.load()
                     << " self-waking task(s) stopped being polled";
  }
  EXPECT_EQ(probe.overlapping_polls.load(), 0) << "a task was polled by two workers at once";
}

// Tasks spawn children (holding pool handles) while the test drops its own
// handle, so the last handle is often dropped by a worker; meanwhile other
// threads keep waking clones of the tasks' wakers, before and after the
// pool is gone. Every future is destroyed exactly once, none is polled
// after Ready, nothing crashes (ASan/TSan watch the rest).
TEST(ThreadPoolStressTest, TasksSpawnTasksWhileThePoolShutsDown) {
  testing::Watchdog dog("ThreadPool spawn during shutdown");
  const int iterations = Scaled(150, 15);
  for (int it = 0; it < iterations; ++it) {
    dog.tick("iteration " + std::to_string(it));
    auto probe = std::make_shared<Probe>();
    auto wakers = std::make_shared<std::vector<Waker>>();
    auto wakers_mu = std::make_shared<std::mutex>();
    std::atomic<bool> stop{false};
    std::thread waker_thread([&] {
      // Wakes whatever wakers the tasks gave out, racing the shutdown.
      while (!stop.load()) {
        std::vector<Waker> mine;
        {
          std::lock_guard lock(*wakers_mu);
          mine = *wakers;
        }
        for (Waker& w : mine) w.wake_by_ref();
        std::this_thread::yield();
      }
    });
    {
      ThreadPool pool = MakePool(2);
      // A task that holds a pool handle, spawns `children` more tasks on its
      // first poll (each one level deeper), hands out its waker, waits for
      // two wakes, then drops its handle and finishes.
      struct Spawner {
        using Output = int;
        std::optional<ThreadPool> pool;
        std::shared_ptr<Probe> probe;
        std::shared_ptr<std::vector<Waker>> wakers;
        std::shared_ptr<std::mutex> mu;
        int depth;
        int polls = 0;
        bool live = true;
        std::shared_ptr<std::atomic<bool>> in_poll = std::make_shared<std::atomic<bool>>(false);

        Spawner(ThreadPool p, std::shared_ptr<Probe> pr, std::shared_ptr<std::vector<Waker>> w,
                std::shared_ptr<std::mutex> m, int d)
            : pool(std::move(p)), probe(std::move(pr)), wakers(std::move(w)), mu(std::move(m)),
              depth(d) {
          probe->created.fetch_add(1);
        }
        Spawner(Spawner&& o) noexcept
            : pool(std::move(o.pool)), probe(o.probe), wakers(o.wakers), mu(o.mu),
              depth(o.depth), polls(o.polls), live(std::exchange(o.live, false)),
              in_poll(o.in_poll) {}
        ~Spawner() {
          if (live) probe->destroyed.fetch_add(1);
        }
        Poll<int> poll(Context& cx) {
          PollScope scope(*in_poll, *probe);
          if (!pool) probe->polls_after_ready.fetch_add(1);
          if (++polls == 1) {
            if (depth < 2) {
              for (int c = 0; c < 3; ++c) {
                pool->spawn_ok(Spawner(*pool, probe, wakers, mu, depth + 1));
              }
            }
            std::lock_guard lock(*mu);
            wakers->push_back(cx.waker());
          }
          if (polls < 3) return Pending;  // woken by the waker thread
          pool.reset();  // may be the last handle: shutdown from a worker
          probe->completed.fetch_add(1);
          return Ready(depth);
        }
      };
      for (int t = 0; t < 4; ++t) {
        pool.spawn_ok(Spawner(pool, probe, wakers, wakers_mu, 0));
      }
      if (it % 2 == 1) std::this_thread::yield();
    }  // our handle goes; tasks may still hold others
    // Some tasks never get their two wakes before the pool shuts down; the
    // pool destroys them. Either way every future is destroyed, though the
    // last handle may go on a worker, which finishes cleanup on its own.
    bool all_destroyed = testing::eventually([&] {
      return probe->created.load() == probe->destroyed.load() && probe->created.load() > 0;
    });
    stop = true;
    waker_thread.join();
    {
      std::lock_guard lock(*wakers_mu);
      for (Waker& w : *wakers) w.wake_by_ref();  // after the pool is gone: nothing
      wakers->clear();
    }
    ASSERT_TRUE(all_destroyed) << "iteration " << it << ": " << probe->live()
                               << " future(s) never destroyed after the last pool handle went";
    EXPECT_EQ(probe->overlapping_polls.load(), 0);
    EXPECT_EQ(probe->polls_after_ready.load(), 0);
  }
}

struct Boom : std::runtime_error {
  Boom() : std::runtime_error("boom from a ThreadPool task") {}
};

// Tasks throw from poll (some at once, some after a wake from another
// thread): the workers survive, spawn_ok exceptions reach the panic handler,
// spawn_with_handle exceptions reach the handle, and the pool still runs
// every later task.
TEST(ThreadPoolStressTest, ExceptionsFromPollDoNotKillWorkers) {
  testing::Watchdog dog("ThreadPool exceptions");
  std::atomic<int> panics{0};
  const int n = Scaled(300, 30);
  ThreadPool pool = MakePool(2, &panics);
  std::vector<ThreadPoolHandle<int>> handles;
  auto slot = std::make_shared<Slot>();
  for (int i = 0; i < n; ++i) {
    auto throwing = poll_fn([i, polls = 0, slot](Context& cx) mutable -> Poll<int> {
      if (i % 2 == 0 || ++polls > 1) throw Boom();
      std::lock_guard lock(slot->mu);
      slot->waker.update(cx.waker());
      cx.waker().wake_by_ref();
      return Pending;
    });
    if (i % 3 == 0) {
      handles.push_back(pool.spawn_with_handle(std::move(throwing)));
    } else {
      pool.spawn_ok(std::move(throwing));
    }
  }
  int rethrown = 0;
  for (auto& h : handles) {
    try {
      block_on(h);
    } catch (const Boom&) {
      ++rethrown;
    }
  }
  EXPECT_EQ(rethrown, static_cast<int>(handles.size()));
  int expected_panics = n - static_cast<int>(handles.size());
  ASSERT_TRUE(testing::eventually([&] { return panics.load() == expected_panics; }))
      << "panic handler saw " << panics.load() << " of " << expected_panics << " exceptions";
  // The workers are all still there: every later task runs.
  std::vector<ThreadPoolHandle<int>> later;
  for (int i = 0; i < 64; ++i) later.push_back(pool.spawn_with_handle(ready(i)));
  for (int i = 0; i < 64; ++i) EXPECT_EQ(block_on(later[i]), i);
}

// A handle awaited with a waker that throws when woken: the task finishes on
// a worker, whose wake of the handle's waker throws. A waker that throws is a
// bug (poll/raw_waker.h): the process stops at the waker boundary with the
// message, on the worker; the pool has no policy of its own.
void AwaitAHandleWithAThrowingWaker() {
  ThreadPool pool = MakePool(2);
  Waker bad = waker_fn([] { throw std::runtime_error("a waker that throws"); });
  auto gate = std::make_shared<std::atomic<bool>>(false);
  ThreadPoolHandle<int> h = pool.spawn_with_handle(poll_fn([gate](Context& cx) -> Poll<int> {
    if (gate->load()) return Ready(1);
    cx.waker().wake_by_ref();  // spin until the gate opens
    return Pending;
  }));
  Context cx = Context::from_waker(bad);
  if (h.poll(cx).is_ready()) std::abort();  // not the path under test: no message
  gate->store(true);
  // The worker's wake of `bad` stops the process; if it never does, the
  // wait ends and the death test fails for want of the message.
  (void)testing::eventually([] { return false; });
}

TEST(ThreadPoolStressDeathTest, AThrowingWakerOnAHandleStopsTheProcess) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(AwaitAHandleWithAThrowingWaker(), "RawWakerVTable::wake threw: a waker that throws");
}

constexpr int kWakesPerThread = Scaled(100000, 20000);  // keep each case < 60 s

// A task that must see `total` events; it checks it is never polled by two
// threads at once, and counts its polls.
struct EventTask {
  std::atomic<int> events{0};
  std::atomic<int> polls{0};
  std::atomic<int> in_poll{0};
  std::atomic<int> overlaps{0};
  WakerSlot waker;
};

auto event_future(EventTask& t, int total) {
  return poll_fn([&t, total](Context& cx) -> Poll<Unit> {
    if (t.in_poll.fetch_add(1) != 0) t.overlaps.fetch_add(1);
    t.polls.fetch_add(1);
    t.waker.store(cx.waker());
    bool done = t.events.load() == total;
    t.in_poll.fetch_sub(1);
    if (done) return Ready();
    return Pending;
  });
}

TEST(ThreadPoolStressTest, ManyWakersManyTasksNoLostWakeup) {
  constexpr int kTasks = 4;
  constexpr int kWakers = 4;  // each wakes every task kWakesPerThread/kTasks times
  constexpr int kPerTask = kWakesPerThread / kTasks;
  ThreadPool pool = ThreadPool::builder().pool_size(2).create();
  std::vector<std::unique_ptr<EventTask>> tasks;
  std::vector<ThreadPoolHandle<Unit>> handles;
  for (int i = 0; i < kTasks; ++i) {
    tasks.push_back(std::make_unique<EventTask>());
    handles.push_back(pool.spawn_with_handle(event_future(*tasks.back(), kWakers * kPerTask)));
  }
  for (auto& t : tasks) {
    ASSERT_TRUE(eventually([&] { return t->waker.has_waker(); }));
  }
  std::vector<std::thread> wakers;
  for (int w = 0; w < kWakers; ++w) {
    wakers.emplace_back([&] {
      for (int i = 0; i < kPerTask; ++i) {
        for (auto& t : tasks) {
          t->events.fetch_add(1);
          t->waker.wake_by_ref();
        }
      }
    });
  }
  for (auto& th : wakers) th.join();
  for (int i = 0; i < kTasks; ++i) {
    ASSERT_TRUE(wait_output(handles[i]).has_value())
        << "lost wakeup: task " << i << " saw " << tasks[i]->events.load() << " events and was never polled again";
    EXPECT_EQ(tasks[i]->overlaps.load(), 0) << "task " << i << " was polled by two threads at once";
    EXPECT_LE(tasks[i]->polls.load(), kWakers * kPerTask + 1);
    tasks[i]->waker.take();
  }
}

TEST(ThreadPoolStressTest, TaskNeverPolledConcurrently) {
  // A task that wakes itself during every poll while other threads wake it
  // too: every wake lands in POLLING or REPOLL, the hardest case.
  constexpr int kPolls = Scaled(5000, 1000);
  ThreadPool pool = ThreadPool::builder().pool_size(2).create();
  EventTask t;
  std::atomic<bool> stop{false};
  auto handle = pool.spawn_with_handle(poll_fn([&](Context& cx) -> Poll<Unit> {
    if (t.in_poll.fetch_add(1) != 0) t.overlaps.fetch_add(1);
    int n = t.polls.fetch_add(1) + 1;
    t.waker.store(cx.waker());
    std::this_thread::yield();  // widen the window for concurrent wakes
    t.in_poll.fetch_sub(1);
    if (n >= kPolls) return Ready();
    cx.waker().wake_by_ref();
    return Pending;
  }));
  ASSERT_TRUE(eventually([&] { return t.waker.has_waker(); }));
  std::vector<std::thread> wakers;
  for (int w = 0; w < 2; ++w) {
    wakers.emplace_back([&] {
      while (!stop.load()) {
        t.waker.wake_by_ref();
        std::this_thread::yield();  // two cores: let the workers run
      }
    });
  }
  bool finished = wait_output(handle).has_value();
  stop.store(true);
  for (auto& th : wakers) th.join();
  ASSERT_TRUE(finished) << "lost wakeup after " << t.polls.load() << " polls";
  EXPECT_EQ(t.overlaps.load(), 0);
  EXPECT_EQ(t.polls.load(), kPolls);  // Ready ends it: no poll after completion
  t.waker.take();
}

TEST(ThreadPoolStressTest, WakesRaceCompletion) {
  // Each round: tasks complete after a few events while wakers keep waking
  // them past completion. No poll after Ready, no double free.
  constexpr int kRounds = 50;
  constexpr int kTasks = 8;
  ThreadPool pool = ThreadPool::builder().pool_size(2).create();
  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::unique_ptr<EventTask>> tasks;
    std::vector<ThreadPoolHandle<Unit>> handles;
    std::atomic<int> polls_after_ready{0};
    for (int i = 0; i < kTasks; ++i) {
      tasks.push_back(std::make_unique<EventTask>());
      EventTask& t = *tasks.back();
      handles.push_back(pool.spawn_with_handle(
          poll_fn([&t, &polls_after_ready, done = false](Context& cx) mutable -> Poll<Unit> {
            if (done) polls_after_ready.fetch_add(1);
            t.polls.fetch_add(1);
            t.waker.store(cx.waker());
            if (t.events.load() >= 3) {
              done = true;
              return Ready();
            }
            return Pending;
          })));
    }
    for (auto& t : tasks) ASSERT_TRUE(eventually([&] { return t->waker.has_waker(); }));
    std::thread waker([&] {
      for (int k = 0; k < 50; ++k) {
        for (auto& t : tasks) {
          t->events.fetch_add(1);
          t->waker.wake_by_ref();
        }
      }
    });
    for (int i = 0; i < kTasks; ++i) {
      ASSERT_TRUE(wait_output(handles[i]).has_value()) << "lost wakeup in round " << round;
    }
    waker.join();
    EXPECT_EQ(polls_after_ready.load(), 0);
    for (auto& t : tasks) t->waker.take();
  }
}

TEST(ThreadPoolStressTest, WakesRaceShutdownAndWakersOutliveThePool) {
  // Each round: tasks that never finish, woken from two threads while the
  // last handle is dropped. Every future is destroyed exactly once, at
  // shutdown; the wakers then keep waking a pool that no longer exists.
  constexpr int kRounds = 30;
  constexpr int kTasks = 16;
  for (int round = 0; round < kRounds; ++round) {
    std::atomic<int> drops{0};
    std::atomic<int> polled{0};
    std::vector<std::unique_ptr<WakerSlot>> slots;
    for (int i = 0; i < kTasks; ++i) slots.push_back(std::make_unique<WakerSlot>());
    std::optional<ThreadPool> pool(ThreadPool::builder().pool_size(2).create());
    for (int i = 0; i < kTasks; ++i) {
      WakerSlot& slot = *slots[i];
      pool->spawn_ok(poll_fn([&slot, &polled, c = DropCounter(drops)](Context& cx) -> Poll<Unit> {
        if (!slot.has_waker()) polled.fetch_add(1);
        slot.store(cx.waker());
        return Pending;
      }));
    }
    ASSERT_TRUE(eventually([&] { return polled.load() == kTasks; }));
    std::atomic<bool> stop{false};
    std::atomic<int> wakes{0};
    std::vector<std::thread> wakers;
    for (int w = 0; w < 2; ++w) {
      wakers.emplace_back([&] {
        while (!stop.load() || wakes.load() < 2000) {
          for (auto& s : slots) s->wake_by_ref();
          wakes.fetch_add(1);
        }
      });
    }
    ASSERT_TRUE(eventually([&] { return wakes.load() > 100; }));
    pool.reset();  // shutdown races the wakes
    EXPECT_EQ(drops.load(), kTasks) << "round " << round;
    stop.store(true);
    for (auto& th : wakers) th.join();  // they kept waking after the pool went
    EXPECT_EQ(drops.load(), kTasks);
    for (auto& s : slots) s->take();  // the last references free the tasks
  }
}

// Records, when the pool frees it (with the pool's hooks), on which thread
// that happened: 1 the test's thread, 2 another one.
struct FreedOn {
  FreedOn(std::atomic<int>* where, std::thread::id main) : where_(where), main_(main) {}
  FreedOn(const FreedOn&) = delete;
  FreedOn& operator=(const FreedOn&) = delete;
  ~FreedOn() { where_->store(std::this_thread::get_id() == main_ ? 1 : 2); }

 private:
  std::atomic<int>* where_;
  std::thread::id main_;
};

// A wake from a foreign thread collides with the drop of the last handle.
// The waker holds a reference to the pool for its push, so shutdown cannot
// free the pool (and the queue's absl::Mutex) while that push may still be
// inside Unlock(); when its reference is the last one, the waker frees the
// pool itself, after Unlock() has returned. Each round: the pool is freed
// exactly once (on either thread) and the parked future destroyed exactly
// once. ASan and TSan check the path where the waker frees the pool; the
// original hazard lies inside absl::Mutex::Unlock, which they cannot see
// into (Debian's libabsl is not instrumented), so this test guards the
// ownership rule rather than reproducing a crash.
TEST(ThreadPoolStressTest, ForeignWakeRacesTheLastHandleDrop) {
  const int kRounds = Scaled(400, 40);
  Watchdog dog("a foreign wake racing the last handle's drop");
  int freed_by_waker = 0;
  for (int round = 0; round < kRounds; ++round) {
    dog.tick("round " + std::to_string(round));
    std::atomic<int> freed{0};
    std::atomic<int> drops{0};
    std::optional<ThreadPool> pool(
        ThreadPool::builder()
            .pool_size(1)
            .after_start([marker = std::make_shared<FreedOn>(&freed, std::this_thread::get_id())](
                             std::size_t) {})
            .create());
    WakerSlot slot;
    pool->spawn_ok(poll_fn([&slot, c = DropCounter(drops)](Context& cx) -> Poll<Unit> {
      slot.store(cx.waker());
      return Pending;
    }));
    ASSERT_TRUE(eventually([&] { return slot.has_waker(); })) << "round " << round;
    std::atomic<bool> go{false};
    std::atomic<bool> woke{false};
    std::thread waker([&go, &woke, w = *slot.clone()] {
      // A bounded spin, so that the wake and the drop start together.
      const auto give_up = std::chrono::steady_clock::now() + kDeadline;
      for (long i = 1; !go.load(std::memory_order_acquire); ++i) {
        if (i % 1024 == 0 && std::chrono::steady_clock::now() > give_up) return;
      }
      w.wake_by_ref();
      woke.store(true);
    });  // `w` goes with the thread: the task's shell outlives the pool
    go.store(true, std::memory_order_release);
    pool.reset();  // the last handle: shutdown races the waker's push
    waker.join();
    EXPECT_TRUE(woke.load()) << "round " << round << ": the waker never saw the start";
    EXPECT_EQ(drops.load(), 1) << "round " << round;
    EXPECT_NE(freed.load(), 0) << "round " << round << ": the pool was not freed";
    if (freed.load() == 2) ++freed_by_waker;
    slot.take();  // the last reference frees the task's shell
  }
  dog.stop();
  EXPECT_FALSE(dog.stalled()) << "shutdown hung while a foreign wake raced it";
  std::printf("the waker freed the pool in %d of %d rounds\n", freed_by_waker, kRounds);
}

TEST(ThreadPoolStressTest, SpawnFromManyThreads) {
  constexpr int kThreads = 3;
  constexpr int kPerThread = 20000;
  ThreadPool pool = ThreadPool::builder().pool_size(2).create();
  Latch done(kThreads * kPerThread);
  std::vector<std::thread> spawners;
  for (int s = 0; s < kThreads; ++s) {
    spawners.emplace_back([&, handle = pool] {
      for (int i = 0; i < kPerThread; ++i) {
        handle.spawn_ok(poll_fn([&done](Context&) -> Poll<Unit> {
          done.count_down();
          return Ready();
        }));
      }
    });
  }
  for (auto& th : spawners) th.join();
  ASSERT_TRUE(done.wait()) << "lost task: " << done.remaining() << " never ran";
}

TEST(ThreadPoolStressTest, TasksSpawnAndWakeEachOther) {
  // A chain: each task spawns the next from a worker thread and awaits its
  // handle, so wakes travel between workers in both directions.
  constexpr int kDepth = 2000;
  ThreadPool pool = ThreadPool::builder().pool_size(2).create();
  struct Chain {
    static BoxFuture<int> make(ThreadPool pool, int depth) {
      if (depth == 0) return boxed(ready(0));
      return boxed(poll_fn([pool, depth, child = std::optional<ThreadPoolHandle<int>>()](
                               Context& cx) mutable -> Poll<int> {
        if (!child) child.emplace(pool.spawn_with_handle(make(pool, depth - 1)));
        Poll<int> p = child->poll(cx);
        if (p.is_pending()) return Pending;
        child.reset();
        return Ready(p.value() + 1);
      }));
    }
  };
  auto handle = pool.spawn_with_handle(Chain::make(pool, kDepth));
  std::optional<int> out = wait_output(handle);
  ASSERT_TRUE(out.has_value()) << "lost wakeup in the chain";
  EXPECT_EQ(*out, kDepth);
}

}  // namespace
}  // namespace pollwake
