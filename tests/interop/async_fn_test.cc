// tests/interop/async_fn_test.cc: coro::Async<T>, the lazy coroutine future.
#include "interop/coro/async_fn.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>

#include <gtest/gtest.h>

#include "poll/context.h"
#include "poll/future.h"
#include "poll/poll.h"
#include "poll/ready.h"
#include "poll/latest_waker.h"
#include "poll/waker.h"
#include "poll/waker_fn.h"
#include "tests/support/counting_waker.h"

namespace pollwake {
namespace {

using coro::Async;
using testing::CountingWaker;

static_assert(Future<Async<int>>);
static_assert(Future<Async<>>);
static_assert(std::is_same_v<OutputOf<Async<>>, Unit>);

// Event: a counted leaf future, Pending until fire(); stores the latest waker.
struct EventState {
  std::optional<int> value;
  LatestWaker waker;
  int polls = 0;
  int drops = 0;
};
class EventFuture {
 public:
  using Output = int;
  explicit EventFuture(std::shared_ptr<EventState> s) : s_(std::move(s)) {}
  EventFuture(EventFuture&& o) noexcept : s_(std::move(o.s_)) {}
  ~EventFuture() {
    if (s_) ++s_->drops;
  }
  Poll<int> poll(Context& cx) {
    ++s_->polls;
    if (s_->value) return Ready(*s_->value);
    s_->waker.update(cx.waker());
    return Pending;
  }

 private:
  std::shared_ptr<EventState> s_;
};
void fire(EventState& s, int v) {
  s.value = v;
  s.waker.take().wake();
}


// ThrowingFuture: throws from poll number `throw_on` (1-based).
class ThrowingFuture {
 public:
  using Output = int;
  explicit ThrowingFuture(int throw_on) : throw_on_(throw_on) {}
  Poll<int> poll(Context& cx) {
    if (++polls_ == throw_on_) throw std::runtime_error("inner boom");
    cx.waker().wake_by_ref();
    return Pending;
  }

 private:
  int throw_on_;
  int polls_ = 0;
};

Async<int> trivial(std::shared_ptr<EventState> ev, int* steps) {
  ++*steps;  // "Hello!"
  int value = co_await EventFuture(ev);
  ++*steps;  // "Got: value"
  co_return value * 2;
}

TEST(AsyncTest, DoesNotStartUntilPolled) {
  auto ev = std::make_shared<EventState>();
  int steps = 0;
  Async<int> fut = trivial(ev, &steps);
  EXPECT_EQ(steps, 0) << "the body ran before the first poll";
  EXPECT_EQ(ev->polls, 0);
  Context cx = Context::from_waker(Waker::noop());
  EXPECT_TRUE(fut.poll(cx).is_pending());
  EXPECT_EQ(steps, 1);
  EXPECT_EQ(ev->polls, 1);
}

TEST(AsyncTest, AwaitPollsWithTheCurrentContextAndWakeLeadsToReady) {
  auto ev = std::make_shared<EventState>();
  int steps = 0;
  Async<int> fut = trivial(ev, &steps);
  CountingWaker w;
  Context cx = Context::from_waker(w.waker());
  ASSERT_TRUE(fut.poll(cx).is_pending());
  ASSERT_TRUE(ev->waker.has_waker());
  EXPECT_TRUE(ev->waker.clone()->will_wake(w.waker())) << "the inner future did not get the poll's waker";
  fire(*ev, 21);
  EXPECT_EQ(w.woken(), 1);
  Poll<int> p = fut.poll(cx);
  ASSERT_TRUE(p.is_ready());
  EXPECT_EQ(p.value(), 42);
  EXPECT_EQ(steps, 2);
  EXPECT_EQ(ev->polls, 2);
  EXPECT_TRUE(fut.is_terminated());
}

TEST(AsyncTest, RepollWhileInnerPendingPollsInnerOnlyAndKeepsLatestWaker) {
  auto ev = std::make_shared<EventState>();
  int steps = 0;
  Async<int> fut = trivial(ev, &steps);
  CountingWaker a;
  CountingWaker b;
  Context ca = Context::from_waker(a.waker());
  Context cb = Context::from_waker(b.waker());
  ASSERT_TRUE(fut.poll(ca).is_pending());
  ASSERT_TRUE(fut.poll(cb).is_pending());
  ASSERT_TRUE(fut.poll(cb).is_pending());
  EXPECT_EQ(steps, 1) << "the body was resumed while its awaited future was still Pending";
  EXPECT_EQ(ev->polls, 3);
  fire(*ev, 1);
  EXPECT_EQ(a.woken(), 0) << "a stale waker was woken";
  EXPECT_EQ(b.woken(), 1);
  EXPECT_EQ(fut.poll(cb).value(), 2);
}

TEST(AsyncTest, PolledAfterCompletionThrows) {
  Async<int> fut = []() -> Async<int> { co_return 7; }();
  Context cx = Context::from_waker(Waker::noop());
  EXPECT_EQ(fut.poll(cx).value(), 7);
  EXPECT_THROW((void)fut.poll(cx), FuturePolledAfterCompletion);
  EXPECT_THROW((void)fut.poll(cx), FuturePolledAfterCompletion);
}

TEST(AsyncTest, MovedFromAsyncThrowsAndMovedToKeepsRunning) {
  auto ev = std::make_shared<EventState>();
  int steps = 0;
  Async<int> a = trivial(ev, &steps);
  Context cx = Context::from_waker(Waker::noop());
  ASSERT_TRUE(a.poll(cx).is_pending());
  Async<int> b = std::move(a);  // the frame is pinned on the heap; moving the handle is fine
  EXPECT_THROW((void)a.poll(cx), FuturePolledAfterCompletion);  // NOLINT: use after move is the point
  fire(*ev, 5);
  EXPECT_EQ(b.poll(cx).value(), 10);
}

struct DropCounter {
  int* drops;
  ~DropCounter() { ++*drops; }
};

TEST(AsyncTest, DropCancelsTheFrameAndItsAwaitedFuture) {
  auto ev = std::make_shared<EventState>();
  int local_drops = 0;
  int after_await = 0;
  const std::size_t live_before = coro::frame_stats().live();
  {
    auto body = [](std::shared_ptr<EventState> ev, int* local_drops, int* after) -> Async<int> {
      DropCounter guard{local_drops};
      int v = co_await EventFuture(ev);
      ++*after;
      co_return v;
    };
    Async<int> fut = body(ev, &local_drops, &after_await);
    EXPECT_EQ(coro::frame_stats().live(), live_before + 1);
    Context cx = Context::from_waker(Waker::noop());
    ASSERT_TRUE(fut.poll(cx).is_pending());
    EXPECT_EQ(local_drops, 0);
    EXPECT_EQ(ev->drops, 0);
  }  // dropped while suspended at the co_await
  EXPECT_EQ(local_drops, 1) << "the body's locals were not destroyed";
  EXPECT_EQ(ev->drops, 1) << "the awaited future was not dropped";
  EXPECT_EQ(after_await, 0);
  EXPECT_EQ(coro::frame_stats().live(), live_before) << "the frame was not freed";
}

TEST(AsyncTest, DropBeforeFirstPollRunsNothing) {
  int started = 0;
  const std::size_t allocated_before = coro::frame_stats().allocated.load();
  const std::size_t live_before = coro::frame_stats().live();
  {
    auto body = [](int* started) -> Async<> {
      ++*started;
      co_return;
    };
    Async<> fut = body(&started);
  }
  EXPECT_EQ(started, 0);
  EXPECT_EQ(coro::frame_stats().allocated.load(), allocated_before + 1) << "one frame per call";
  EXPECT_EQ(coro::frame_stats().live(), live_before);
}

TEST(AsyncTest, FrameIsFreedWhenReadyIsReturned) {
  const std::size_t live_before = coro::frame_stats().live();
  Async<int> fut = []() -> Async<int> { co_return 1; }();
  EXPECT_EQ(coro::frame_stats().live(), live_before + 1);
  Context cx = Context::from_waker(Waker::noop());
  EXPECT_EQ(fut.poll(cx).value(), 1);
  EXPECT_EQ(coro::frame_stats().live(), live_before);
}

TEST(AsyncTest, ExceptionFromBodyIsRethrownByPollThenFinished) {
  Async<int> fut = []() -> Async<int> {
    throw std::runtime_error("body boom");
    co_return 0;
  }();
  Context cx = Context::from_waker(Waker::noop());
  EXPECT_THROW((void)fut.poll(cx), std::runtime_error);
  EXPECT_TRUE(fut.is_terminated());
  EXPECT_THROW((void)fut.poll(cx), FuturePolledAfterCompletion);
}

TEST(AsyncTest, InnerExceptionOnFirstPollReachesTheBody) {
  Async<int> fut = []() -> Async<int> {
    try {
      co_return co_await ThrowingFuture(1);
    } catch (const std::runtime_error&) {
      co_return -1;
    }
  }();
  Context cx = Context::from_waker(Waker::noop());
  EXPECT_EQ(fut.poll(cx).value(), -1);
}

TEST(AsyncTest, InnerExceptionOnLaterPollReachesTheBody) {
  Async<int> fut = []() -> Async<int> {
    try {
      co_return co_await ThrowingFuture(3);
    } catch (const std::runtime_error&) {
      co_return -3;
    }
  }();
  Context cx = Context::from_waker(Waker::noop());
  EXPECT_TRUE(fut.poll(cx).is_pending());
  EXPECT_TRUE(fut.poll(cx).is_pending());
  EXPECT_EQ(fut.poll(cx).value(), -3);
}

TEST(AsyncTest, UncaughtInnerExceptionPropagatesOutOfPoll) {
  Async<int> fut = []() -> Async<int> { co_return co_await ThrowingFuture(2); }();
  Context cx = Context::from_waker(Waker::noop());
  EXPECT_TRUE(fut.poll(cx).is_pending());
  EXPECT_THROW((void)fut.poll(cx), std::runtime_error);
  EXPECT_THROW((void)fut.poll(cx), FuturePolledAfterCompletion);
}

TEST(AsyncTest, NestedAsyncAndLvalueAwaitsPollInPlace) {
  auto ev = std::make_shared<EventState>();
  auto inner = [](std::shared_ptr<EventState> ev) -> Async<int> { co_return 1 + co_await EventFuture(ev); };
  auto outer = [inner](std::shared_ptr<EventState> ev) -> Async<int> {
    Async<int> a = inner(ev);
    int x = co_await a;  // lvalue: polled in place
    int y = co_await ready(100);
    co_return x + y;
  };
  Async<int> fut = outer(ev);
  CountingWaker w;
  Context cx = Context::from_waker(w.waker());
  ASSERT_TRUE(fut.poll(cx).is_pending());
  fire(*ev, 10);
  EXPECT_EQ(w.woken(), 1) << "the leaf did not wake the outer task's waker";
  EXPECT_EQ(fut.poll(cx).value(), 111);
}

TEST(AsyncTest, UnitAsyncUsesCoReturnVoid) {
  int ran = 0;
  Async<> fut = [](int* ran) -> Async<> {
    ++*ran;
    co_return;
  }(&ran);
  Context cx = Context::from_waker(Waker::noop());
  Poll<Unit> p = fut.poll(cx);
  EXPECT_TRUE(p.is_ready());
  EXPECT_EQ(ran, 1);
}

}  // namespace
}  // namespace pollwake
