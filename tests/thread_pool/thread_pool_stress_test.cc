// tests/thread_pool/thread_pool_stress_test.cc: bounded races on ThreadPool
// tasks: many wakers, wakes racing completion, wakes racing shutdown, wakers
// outliving the pool. Each waits with a deadline and FAILs (never hangs) on a
// lost wakeup; ASan and TSan check the memory and the orderings.
#include <atomic>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "executor/thread_pool.h"
#include "gtest/gtest.h"
#include "poll/box_future.h"
#include "poll/ready.h"
#include "tests/thread_pool/test_support.h"

namespace pollwake {
namespace {

using testing::DropCounter;
using testing::eventually;
using testing::Latch;
using testing::wait_output;
using testing::WakerSlot;

#if defined(__SANITIZE_THREAD__)
constexpr int kWakesPerThread = 30000;  // TSan is ~10x slower; keep < 60 s
#else
constexpr int kWakesPerThread = 100000;
#endif

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
#if defined(__SANITIZE_THREAD__)
  constexpr int kPolls = 2000;
#else
  constexpr int kPolls = 5000;
#endif
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
