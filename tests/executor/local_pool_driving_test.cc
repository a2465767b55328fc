// tests/executor/local_pool_driving_test.cc: what a LocalPool offers a loop
// that drives it between its own waits (reactor/runtime.h's LocalRuntime):
// WakeScope, run_until_stalled_at_most, has_ready and set_remote_waker; and
// the wake by value that hands its reference to the queue.
#include <atomic>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "executor/local_pool.h"
#include "poll/context.h"
#include "poll/poll.h"
#include "poll/ready.h"
#include "poll/waker.h"
#include "poll/waker_fn.h"
#include "tests/support/drop_counter.h"
#include "tests/support/sanitizer_scale.h"
#include "tests/support/watchdog.h"

namespace pollwake {
namespace {

using testing::DropCounter;
using testing::Watchdog;

// Pending until woken; leaves a clone of its waker in `*slot` at each poll
// and counts its polls.
struct Parked {
  using Output = Unit;
  std::optional<Waker>* slot;
  int* polls;
  bool* ready = nullptr;  // Ready once *ready is true
  Poll<Unit> poll(Context& cx) {
    ++*polls;
    if (ready != nullptr && *ready) return Ready();
    slot->emplace(cx.waker());
    return Pending;
  }
};

// Wakes itself at every poll (always ready to run), logging its id.
struct Spinner {
  using Output = Unit;
  int id;
  std::vector<int>* log;
  Poll<Unit> poll(Context& cx) {
    log->push_back(id);
    cx.waker().wake_by_ref();
    return Pending;
  }
};

// A remote waker that counts its wakes.
Waker counting_waker(std::atomic<int>& count) {
  return waker_fn([&count] { count.fetch_add(1, std::memory_order_relaxed); });
}

TEST(LocalPoolTest, AWakeInsideAWakeScopeGoesStraightToTheReadyQueue) {
  LocalPool pool;
  std::atomic<int> remote{0};
  pool.set_remote_waker(counting_waker(remote));
  std::optional<Waker> w;
  int polls = 0;
  pool.spawner().spawn_local(Parked{&w, &polls});
  pool.run_until_stalled();
  ASSERT_EQ(polls, 1);
  EXPECT_FALSE(pool.has_ready());

  // Outside a run and outside a scope: through the remote stack, which also
  // wakes the remote waker.
  w->wake_by_ref();
  EXPECT_EQ(remote.load(), 1);
  EXPECT_TRUE(pool.has_ready());
  pool.run_until_stalled();
  EXPECT_EQ(polls, 2);

  // Inside a scope: onto the ready queue; the remote waker is not needed.
  {
    LocalPool::WakeScope here = pool.wake_scope();
    std::move(*w).wake();
    w.reset();
  }
  EXPECT_EQ(remote.load(), 1);
  EXPECT_TRUE(pool.has_ready());
  pool.run_until_stalled();
  EXPECT_EQ(polls, 3);
  EXPECT_FALSE(pool.has_ready());
}

TEST(LocalPoolTest, WakeScopesNestAndRestoreWhatTheyFound) {
  LocalPool a;
  LocalPool b;
  std::atomic<int> remote_a{0};
  a.set_remote_waker(counting_waker(remote_a));
  std::optional<Waker> wa;
  int polls = 0;
  a.spawner().spawn_local(Parked{&wa, &polls});
  a.run_until_stalled();
  {
    LocalPool::WakeScope outer = a.wake_scope();
    {
      LocalPool::WakeScope inner = b.wake_scope();
      wa->wake_by_ref();  // a's task, inside b's scope: a's remote stack
      EXPECT_EQ(remote_a.load(), 1);
    }
    a.run_until_stalled();  // takes it (a run leaves no scope behind)
    EXPECT_EQ(polls, 2);
  }
  {
    LocalPool::WakeScope outer = a.wake_scope();
    {
      LocalPool::WakeScope inner = b.wake_scope();
    }
    wa->wake_by_ref();  // a's scope again after the inner one ended
    EXPECT_EQ(remote_a.load(), 1);
    EXPECT_TRUE(a.has_ready());
  }
  a.run_until_stalled();
  EXPECT_EQ(polls, 3);
}

TEST(LocalPoolTest, WakeScopeOffThePoolsThreadThrows) {
  LocalPool pool;
  bool threw = false;
  std::thread([&] {
    try {
      LocalPool::WakeScope here = pool.wake_scope();
    } catch (const std::logic_error&) {
      threw = true;
    }
  }).join();
  EXPECT_TRUE(threw);
}

// Misuse with a defined outcome: a pool destroyed while one of its scopes is
// open aborts with a message, also when another pool's run sits between the
// scope and the destruction (that run would restore the freed pool).
TEST(LocalPoolDeathTest, DestroyingAPoolUnderItsOwnWakeScopeAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        auto pool = std::make_unique<LocalPool>();
        LocalPool::WakeScope here = pool->wake_scope();
        pool.reset();
      },
      "destroyed while one of its WakeScopes was open");
  EXPECT_DEATH(
      {
        auto b = std::make_unique<LocalPool>();
        LocalPool a;
        LocalPool::WakeScope here = b->wake_scope();
        a.spawner().spawn_local(poll_fn([&b](Context&) -> Poll<Unit> {
          b.reset();  // inside a's run, under b's scope
          return Ready();
        }));
        a.run_until_stalled();
      },
      "destroyed while one of its WakeScopes was open");
}

TEST(LocalPoolTest, RunUntilStalledAtMostStopsAtItsBudgetAndKeepsTheOrder) {
  LocalPool pool;
  std::vector<int> log;
  for (int i = 0; i < 5; ++i) pool.spawner().spawn_local(Spinner{i, &log});
  EXPECT_EQ(pool.run_until_stalled_at_most(3), 3u);
  EXPECT_EQ(log, (std::vector<int>{0, 1, 2}));
  EXPECT_TRUE(pool.has_ready());
  // The two not reached come first, then the ones that woke themselves.
  EXPECT_EQ(pool.run_until_stalled_at_most(3), 3u);
  EXPECT_EQ(log, (std::vector<int>{0, 1, 2, 3, 4, 0}));
  EXPECT_EQ(pool.run_until_stalled_at_most(0), 0u);
  EXPECT_EQ(log.size(), 6u);
}

TEST(LocalPoolTest, RunUntilStalledAtMostReturnsEarlyWhenStalled) {
  LocalPool pool;
  std::optional<Waker> w1, w2;
  int polls = 0;
  pool.spawner().spawn_local(Parked{&w1, &polls});
  pool.spawner().spawn_local(Parked{&w2, &polls});
  EXPECT_EQ(pool.run_until_stalled_at_most(61), 2u);
  EXPECT_FALSE(pool.has_ready());
  EXPECT_EQ(pool.run_until_stalled_at_most(61), 0u);
}

TEST(LocalPoolTest, AWakeFromAnotherThreadWakesTheRemoteWaker) {
  Watchdog dog("AWakeFromAnotherThreadWakesTheRemoteWaker");
  LocalPool pool;
  std::atomic<int> remote{0};
  pool.set_remote_waker(counting_waker(remote));
  std::optional<Waker> w;
  int polls = 0;
  bool ready = false;
  pool.spawner().spawn_local(Parked{&w, &polls, &ready});
  pool.run_until_stalled();
  ready = true;  // read by the poll after the join below
  std::thread([waker = std::move(*w)]() mutable { std::move(waker).wake(); }).join();
  w.reset();
  EXPECT_EQ(remote.load(), 1);
  EXPECT_TRUE(pool.has_ready());
  pool.run_until_stalled();
  EXPECT_EQ(polls, 2);
  // A task's own wakes during a run do not call it.
  std::vector<int> log;
  pool.spawner().spawn_local(Spinner{7, &log});
  pool.run_until_stalled_at_most(4);
  EXPECT_EQ(remote.load(), 1);
}

TEST(LocalPoolTest, SetRemoteWakerOnceThePoolHasTasksThrows) {
  LocalPool pool;
  std::optional<Waker> w;
  int polls = 0;
  pool.spawner().spawn_local(Parked{&w, &polls});
  std::atomic<int> remote{0};
  EXPECT_THROW(pool.set_remote_waker(counting_waker(remote)), std::logic_error);
}

// A wake by value hands the waker's reference to the queue entry, or drops
// it when the task is already queued or finished: no reference is leaked
// or dropped twice (LeakSanitizer and ASan check what the counts here do
// not), and the future is destroyed once.
TEST(LocalPoolTest, WakesByValueQueuedCoalescedOrLateKeepTheCountsRight) {
  std::atomic<int> drops{0};
  std::optional<Waker> w;
  int polls = 0;
  bool ready = false;
  struct Owned {
    using Output = Unit;
    Parked inner;
    DropCounter token;
    Poll<Unit> poll(Context& cx) { return inner.poll(cx); }
  };
  {
    LocalPool pool;
    pool.spawner().spawn_local(Owned{Parked{&w, &polls, &ready}, DropCounter(drops)});
    pool.run_until_stalled();
    Waker a = *w, b = *w, c = *w;
    std::move(a).wake();  // queues the task: its reference is the entry's
    std::move(b).wake();  // already queued: dropped
    pool.run_until_stalled();
    EXPECT_EQ(polls, 2);
    ready = true;
    {
      LocalPool::WakeScope here = pool.wake_scope();
      std::move(*w).wake();  // onto the ready queue, with its reference
    }
    w.reset();
    pool.run_until_stalled();
    EXPECT_EQ(polls, 3);
    EXPECT_EQ(drops.load(), 1);
    std::move(c).wake();  // finished: dropped
  }
  EXPECT_EQ(drops.load(), 1);
}

// A wake by value from another thread must keep the task, and through it
// the pool's shared part, alive until push_remote has finished unparking:
// once the task is on the remote stack, the pool's thread may run it to
// completion and drop the pool at once. (Handing the waker's reference to
// the queue entry there was a use after free that ThreadSanitizer and
// AddressSanitizer report; this test races exactly that, many times.)
TEST(LocalPoolTest, AForeignWakeByValueRacingCompletionAndPoolDropIsSafe) {
  Watchdog dog("AForeignWakeByValueRacingCompletionAndPoolDropIsSafe");
  // Pending at its first poll (leaving its waker), Ready at its second.
  struct Once {
    using Output = Unit;
    std::optional<Waker>* slot;
    bool* done;
    int polls = 0;
    Poll<Unit> poll(Context& cx) {
      if (++polls == 2) {
        *done = true;
        return Ready();
      }
      slot->emplace(cx.waker());
      return Pending;
    }
  };
  const int rounds = 400 / testing::kScaleDivisor;
  for (int i = 0; i < rounds; ++i) {
    auto pool = std::make_unique<LocalPool>();
    std::atomic<int> remote{0};
    pool->set_remote_waker(counting_waker(remote));
    std::optional<Waker> w;
    bool done = false;
    pool->spawner().spawn_local(Once{&w, &done});
    pool->run_until_stalled();
    ASSERT_TRUE(w.has_value());
    std::thread waker([waker = std::move(*w)]() mutable { std::move(waker).wake(); });
    w.reset();
    // Run the pool until the task is done, then drop it at once, while the
    // waking thread may still be inside push_remote.
    while (!done) pool->run_until_stalled();
    pool.reset();
    waker.join();
  }
}

}  // namespace
}  // namespace pollwake
