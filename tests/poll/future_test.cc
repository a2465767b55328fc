// tests/poll/future_test.cc: the Future concept and OutputOf (Rust's
// std::future::Future) from poll/future.h, and the leaf futures ready,
// pending and poll_fn (std::future::{ready, pending, poll_fn}) from
// poll/ready.h, including what each does when polled after completion.
#include "poll/future.h"

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include <gtest/gtest.h>

#include "poll/box_future.h"
#include "poll/context.h"
#include "poll/poll.h"
#include "poll/ready.h"
#include "poll/waker.h"
#include "tests/support/counting_waker.h"

namespace pollwake {
namespace {

using testing::CountingWaker;

// --- The concept --------------------------------------------------------------

struct NoOutput {
  Poll<int> poll(Context&) { return Ready(1); }
};
struct WrongPollType {
  using Output = int;
  Poll<long> poll(Context&) { return Ready(1L); }
};
struct ConstPollOnly {  // poll may change the future: Rust's `&mut self`
  using Output = int;
  Poll<int> poll(Context&) const { return Ready(1); }
};
struct NoPoll {
  using Output = int;
};

static_assert(!Future<int>);
static_assert(!Future<NoOutput>);
static_assert(!Future<WrongPollType>);
static_assert(!Future<NoPoll>);
static_assert(Future<ConstPollOnly>);  // a const poll is also callable on F&

// Every future poll/ ships satisfies the concept, with the expected Output.
inline auto g_poll_fn = poll_fn([](Context&) -> Poll<std::string> { return Pending; });
static_assert(Future<ReadyFuture<int>>);
static_assert(Future<ReadyFuture<std::unique_ptr<int>>>);
static_assert(Future<PendingFuture<int>>);
static_assert(std::is_same_v<decltype(pending()), PendingFuture<Unit>>);  // Rust: pending::<()>
static_assert(Future<decltype(g_poll_fn)>);
static_assert(std::is_same_v<OutputOf<decltype(g_poll_fn)>, std::string>);
static_assert(Future<BoxFuture<int>> && std::is_same_v<OutputOf<BoxFuture<int>>, int>);
static_assert(Future<LocalBoxFuture<Unit>>);
static_assert(std::is_same_v<OutputOf<ReadyFuture<const char*>>, const char*>);
static_assert(std::is_same_v<decltype(ready("text")), ReadyFuture<const char*>>);

// --- ready --------------------------------------------------------------------

TEST(ReadyFutureTest, IsReadyOnTheFirstPollWithoutTouchingTheWaker) {
  CountingWaker c;
  {
    Waker w = c.owned();
    Context cx = Context::from_waker(w);
    auto f = ready(std::string("value"));
    Poll<std::string> p = f.poll(cx);
    ASSERT_TRUE(p.is_ready());
    EXPECT_EQ(p.value(), "value");
  }
  EXPECT_EQ(c.clones() + c.wakes() + c.wake_by_refs(), 0);
  EXPECT_EQ(c.live(), 0);
}

TEST(ReadyFutureTest, MovesAMoveOnlyValueOut) {
  Context cx = Context::from_waker(Waker::noop());
  auto f = ready(std::make_unique<int>(9));
  std::unique_ptr<int> v = f.poll(cx).value();
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(*v, 9);
}

TEST(ReadyFutureTest, PolledAfterCompletionThrows) {
  Context cx = Context::from_waker(Waker::noop());
  auto f = ready(1);
  EXPECT_TRUE(f.poll(cx).is_ready());
  try {
    (void)f.poll(cx);
    FAIL() << "a finished ready() future returned from poll";
  } catch (const FuturePolledAfterCompletion& e) {
    EXPECT_NE(std::string(e.what()).find("`ready`"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)f.poll(cx), FuturePolledAfterCompletion);  // and again
}

// --- pending ------------------------------------------------------------------

TEST(PendingFutureTest, NeverCompletesAndNeverUsesTheWaker) {
  CountingWaker c;
  {
    Waker w = c.owned();
    Context cx = Context::from_waker(w);
    auto f = pending<int>();
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(f.poll(cx).is_pending());
  }
  EXPECT_EQ(c.clones() + c.wakes() + c.wake_by_refs(), 0);
  EXPECT_EQ(c.live(), 0);
}

// --- poll_fn ------------------------------------------------------------------

TEST(PollFnTest, DoesNothingUntilPolled) {
  int calls = 0;
  auto f = poll_fn([&](Context&) -> Poll<int> {
    ++calls;
    return Ready(1);
  });
  EXPECT_EQ(calls, 0);  // building a future runs none of it
  Context cx = Context::from_waker(Waker::noop());
  EXPECT_EQ(f.poll(cx).value(), 1);
  EXPECT_EQ(calls, 1);
}

TEST(PollFnTest, CallsTheClosureOnEachPollUntilReady) {
  int calls = 0;
  auto f = poll_fn([&](Context& cx) -> Poll<int> {
    if (++calls < 3) {
      cx.waker().wake_by_ref();  // Pending, with a wake arranged (here: at once)
      return Pending;
    }
    return Ready(calls * 10);
  });
  CountingWaker c;
  {
    Waker w = c.owned();
    Context cx = Context::from_waker(w);
    EXPECT_TRUE(f.poll(cx).is_pending());
    EXPECT_TRUE(f.poll(cx).is_pending());
    EXPECT_EQ(f.poll(cx).value(), 30);
  }
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(c.wake_by_refs(), 2);
  EXPECT_EQ(c.live(), 0);
}

TEST(PollFnTest, PolledAfterCompletionThrowsWithoutCallingTheClosure) {
  int calls = 0;
  auto f = poll_fn([&](Context&) -> Poll<Unit> {
    ++calls;
    return Ready();
  });
  Context cx = Context::from_waker(Waker::noop());
  EXPECT_TRUE(f.poll(cx).is_ready());
  try {
    (void)f.poll(cx);
    FAIL() << "a finished poll_fn future returned from poll";
  } catch (const FuturePolledAfterCompletion& e) {
    EXPECT_NE(std::string(e.what()).find("`poll_fn`"), std::string::npos) << e.what();
  }
  EXPECT_EQ(calls, 1);
}

TEST(PollFnTest, AnExceptionFromTheClosurePropagates) {
  int calls = 0;
  auto f = poll_fn([&](Context&) -> Poll<int> {
    if (++calls == 1) throw std::runtime_error("poll failed");
    return Ready(2);
  });
  Context cx = Context::from_waker(Waker::noop());
  EXPECT_THROW((void)f.poll(cx), std::runtime_error);
  // The exception is not a completion: the future is still unfinished.
  EXPECT_EQ(f.poll(cx).value(), 2);
  EXPECT_EQ(calls, 2);
}

// --- The latest-waker rule, with a future written by hand ---------------------

// [START flag_future]
// Pending obliges a future to wake the waker of its *latest* poll. This one
// stores it with clone_from, the way executors expect (written out here to
// show it; poll/latest_waker.h packages the idiom).
class Flag {
 public:
  using Output = Unit;
  Poll<Unit> poll(Context& cx) {
    if (set_) return Ready();
    if (waker_) {
      waker_->clone_from(cx.waker());
    } else {
      waker_.emplace(cx.waker());
    }
    return Pending;
  }
  void set() {
    set_ = true;
    if (waker_) {
      Waker w = std::move(*waker_);
      waker_.reset();
      std::move(w).wake();
    }
  }

 private:
  bool set_ = false;
  std::optional<Waker> waker_;
};
static_assert(Future<Flag>);
// [END flag_future]

TEST(FutureTest, APendingFutureWakesTheWakerOfItsLatestPoll) {
  CountingWaker first, second;
  Flag flag;
  {
    Waker w1 = first.owned();
    Context cx1 = Context::from_waker(w1);
    EXPECT_TRUE(flag.poll(cx1).is_pending());
    EXPECT_TRUE(flag.poll(cx1).is_pending());  // same waker: no second clone
    EXPECT_EQ(first.clones(), 1);
    Waker w2 = second.owned();
    Context cx2 = Context::from_waker(w2);
    EXPECT_TRUE(flag.poll(cx2).is_pending());  // moved to another task
    flag.set();
    EXPECT_TRUE(flag.poll(cx2).is_ready());
  }
  EXPECT_EQ(first.wakes() + first.wake_by_refs(), 0);  // the stale waker is not woken
  EXPECT_EQ(second.wakes(), 1);
  EXPECT_EQ(first.live(), 0);
  EXPECT_EQ(second.live(), 0);
}

}  // namespace
}  // namespace pollwake
