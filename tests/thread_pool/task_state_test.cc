// tests/thread_pool/task_state_test.cc: the task state machine of
// executor/detail/pool_task_state.h (WAITING, POLLING, REPOLL, COMPLETE), one race per
// test, with counted polls. Most use one worker so the order is fixed.
#include <atomic>
#include <memory>
#include <optional>
#include <thread>

#include "executor/thread_pool.h"
#include "gtest/gtest.h"
#include "poll/ready.h"
#include "tests/support/deadline.h"
#include "tests/support/drive.h"
#include "tests/support/drop_counter.h"
#include "tests/support/gate.h"
#include "tests/support/latch.h"

namespace pollwake {
namespace {

using testing::eventually;
using testing::Latch;
using testing::wait_output;
using testing::WakerSlot;

TEST(TaskStateTest, WakeDuringPollCausesOneRepoll) {
  ThreadPool pool = ThreadPool::builder().pool_size(1).create();
  std::atomic<int> polls{0};
  auto handle = pool.spawn_with_handle(poll_fn([&polls](Context& cx) -> Poll<int> {
    int n = polls.fetch_add(1) + 1;
    if (n == 1) {
      // Three wakes during one poll: POLLING -> REPOLL, then REPOLL stays.
      cx.waker().wake_by_ref();
      cx.waker().wake_by_ref();
      Waker clone = cx.waker();
      std::move(clone).wake();
      return Pending;
    }
    return Ready(n);
  }));
  std::optional<int> out = wait_output(handle);
  ASSERT_TRUE(out.has_value()) << "lost wakeup: the wake during the poll was forgotten";
  EXPECT_EQ(*out, 2);
  EXPECT_EQ(polls.load(), 2);  // exactly one re-poll
}

TEST(TaskStateTest, WakeFromAnotherThreadDuringPollCausesOneRepoll) {
  ThreadPool pool = ThreadPool::builder().pool_size(1).create();
  std::atomic<int> polls{0};
  std::atomic<bool> in_poll{false};
  std::atomic<bool> woken{false};
  WakerSlot slot;
  auto handle = pool.spawn_with_handle(poll_fn([&](Context& cx) -> Poll<int> {
    int n = polls.fetch_add(1) + 1;
    if (n == 1) {
      slot.store(cx.waker());
      in_poll.store(true);
      // Stay inside the poll until the test thread has woken us (bounded).
      EXPECT_TRUE(eventually([&] { return woken.load(); }));
      return Pending;
    }
    return Ready(n);
  }));
  ASSERT_TRUE(eventually([&] { return in_poll.load(); }));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(slot.wake_by_ref());
  woken.store(true);
  std::optional<int> out = wait_output(handle);
  ASSERT_TRUE(out.has_value()) << "lost wakeup: the wake during the poll was forgotten";
  EXPECT_EQ(polls.load(), 2);
}

TEST(TaskStateTest, WakeWhileQueuedIsServedByThatPoll) {
  // One worker. B is polled once (stores its waker). Then A holds the worker
  // while the test wakes B twice: B is queued once (WAITING -> POLLING), the
  // second wake finds it queued (POLLING -> REPOLL). When A lets go, B's poll
  // serves both wakes: B is polled exactly twice. To know no third poll is
  // coming, B's second poll spawns C, and C spawns D: with one FIFO queue, a
  // re-queued B would run between C and D.
  ThreadPool pool = ThreadPool::builder().pool_size(1).create();
  WakerSlot b_waker;
  std::atomic<int> b_polls{0};
  std::atomic<bool> release_a{false};
  std::atomic<bool> a_holding{false};
  Latch d_ran(1);
  int b_polls_when_d_ran = -1;
  pool.spawn_ok(poll_fn([&, pool_copy = pool](Context& cx) mutable -> Poll<Unit> {
    int n = b_polls.fetch_add(1) + 1;
    if (n == 1) {
      b_waker.store(cx.waker());
      return Pending;
    }
    if (n == 2) {
      // B gives its handle away (a never-finishing task that kept a handle
      // would keep the pool alive forever); C drops it when it finishes.
      ThreadPool p = std::move(pool_copy);
      p.spawn_ok(poll_fn([&, pool_c = p](Context&) mutable -> Poll<Unit> {
        pool_c.spawn_ok(poll_fn([&](Context&) -> Poll<Unit> {
          b_polls_when_d_ran = b_polls.load();
          d_ran.count_down();
          return Ready();
        }));
        return Ready();
      }));
    }
    return Pending;  // B never completes; it is destroyed at shutdown
  }));
  ASSERT_TRUE(eventually([&] { return b_waker.has_waker(); }));
  pool.spawn_ok(poll_fn([&](Context&) -> Poll<Unit> {
    a_holding.store(true);
    EXPECT_TRUE(eventually([&] { return release_a.load(); }));
    return Ready();
  }));
  ASSERT_TRUE(eventually([&] { return a_holding.load(); }));
  ASSERT_TRUE(b_waker.wake_by_ref());  // WAITING -> POLLING, queued
  ASSERT_TRUE(b_waker.wake_by_ref());  // POLLING -> REPOLL (still queued)
  release_a.store(true);
  ASSERT_TRUE(d_ran.wait()) << "lost wakeup: B, C or D never ran";
  EXPECT_EQ(b_polls_when_d_ran, 2);
  b_waker.take();  // drop B's waker before the pool: B dies at shutdown
}

TEST(TaskStateTest, WakeAfterCompletionIsIgnored) {
  std::atomic<int> polls{0};
  WakerSlot slot;
  {
    ThreadPool pool = ThreadPool::builder().pool_size(1).create();
    auto handle = pool.spawn_with_handle(poll_fn([&](Context& cx) -> Poll<Unit> {
      polls.fetch_add(1);
      slot.store(cx.waker());  // keeps a clone past completion
      return Ready();
    }));
    ASSERT_TRUE(wait_output(handle).has_value());
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(slot.wake_by_ref());
    // A sentinel behind any (wrong) re-queue of the finished task.
    auto sentinel = pool.spawn_with_handle(ready(1));
    ASSERT_TRUE(wait_output(sentinel).has_value());
    EXPECT_EQ(polls.load(), 1);
  }
  // And after the pool is gone: waking does nothing, the waker is still safe
  // to wake, clone and drop.
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(slot.wake_by_ref());
  std::optional<Waker> w = slot.clone();
  (void)slot.take();  // the slot's own waker is dropped; `w` stays
  ASSERT_TRUE(w.has_value());
  Waker clone = *w;
  std::move(*w).wake();
  EXPECT_EQ(polls.load(), 1);
}

TEST(TaskStateTest, WakeOfWaitingTaskAfterShutdownDoesNothing) {
  std::atomic<int> polls{0};
  std::atomic<int> drops{0};
  WakerSlot slot;
  {
    ThreadPool pool = ThreadPool::builder().pool_size(2).create();
    pool.spawn_ok(poll_fn([&, c = testing::DropCounter(drops)](Context& cx) -> Poll<Unit> {
      polls.fetch_add(1);
      slot.store(cx.waker());
      return Pending;
    }));
    ASSERT_TRUE(eventually([&] { return slot.has_waker(); }));
  }
  EXPECT_EQ(drops.load(), 1);  // WAITING -> COMPLETE at shutdown
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(slot.wake_by_ref());
  EXPECT_EQ(polls.load(), 1);
  slot.take();
}

TEST(TaskStateTest, EachWakeIsFollowedByAPoll) {
  // A waker thread makes an event happen, then wakes; the task completes when
  // it has seen every event. A lost wakeup leaves it pending: FAIL.
  constexpr int kEvents = 20000;
  ThreadPool pool = ThreadPool::builder().pool_size(2).create();
  std::atomic<int> events{0};
  WakerSlot slot;
  std::atomic<int> polls{0};
  auto handle = pool.spawn_with_handle(poll_fn([&](Context& cx) -> Poll<int> {
    polls.fetch_add(1);
    slot.store(cx.waker());  // before looking at the world
    if (events.load() == kEvents) return Ready(kEvents);
    return Pending;
  }));
  ASSERT_TRUE(eventually([&] { return slot.has_waker(); }));
  std::thread waker([&] {
    for (int i = 0; i < kEvents; ++i) {
      events.fetch_add(1);
      slot.wake_by_ref();
    }
  });
  std::optional<int> out = wait_output(handle);
  waker.join();
  ASSERT_TRUE(out.has_value()) << "lost wakeup: the task missed the last event";
  EXPECT_EQ(*out, kEvents);
  EXPECT_LE(polls.load(), kEvents + 1);  // never more polls than wakes + 1
  slot.take();
}

}  // namespace
}  // namespace pollwake
