// tests/poll/box_future_test.cc: BoxFuture / LocalBoxFuture and boxed /
// boxed_local (futures' BoxFuture, LocalBoxFuture, FutureExt::boxed) from
// poll/box_future.h.
#include "poll/box_future.h"

#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include <gtest/gtest.h>

#include "poll/context.h"
#include "poll/future.h"
#include "poll/poll.h"
#include "poll/ready.h"
#include "poll/waker.h"

namespace pollwake {
namespace {

// A future that counts its polls, moves and destruction, and remembers where
// it was polled, to show that boxing pins it: once boxed it never moves.
struct Probe {
  int polls = 0;
  int moves_after_first_poll = 0;
  int destroyed = 0;
  const void* polled_at = nullptr;
  bool moved_after_poll = false;
};
class CountedFuture {
 public:
  using Output = int;
  CountedFuture(Probe* p, int pending_polls) : probe_(p), pending_polls_(pending_polls) {}
  CountedFuture(CountedFuture&& o) noexcept
      : probe_(std::exchange(o.probe_, nullptr)), pending_polls_(o.pending_polls_) {
    if (probe_ != nullptr && probe_->polls > 0) probe_->moves_after_first_poll++;
  }
  CountedFuture& operator=(CountedFuture&&) = delete;
  ~CountedFuture() {
    if (probe_ != nullptr) probe_->destroyed++;
  }
  Poll<int> poll(Context&) {
    if (probe_->polled_at != nullptr && probe_->polled_at != this) probe_->moved_after_poll = true;
    probe_->polled_at = this;
    if (probe_->polls++ < pending_polls_) return Pending;
    return Ready(probe_->polls);
  }

 private:
  Probe* probe_;
  int pending_polls_;
};

static_assert(Future<CountedFuture>);
// A BoxFuture converts to a LocalBoxFuture, never the other way (Rust: a
// LocalBoxFuture is not Send, so it cannot become a BoxFuture).
static_assert(std::is_convertible_v<BoxFuture<int>, LocalBoxFuture<int>>);
static_assert(!std::is_convertible_v<LocalBoxFuture<int>, BoxFuture<int>>);
static_assert(!std::is_constructible_v<BoxFuture<int>, LocalBoxFuture<int>>);
template <class F>
concept CanBox = requires(F f) { boxed(std::move(f)); };
static_assert(CanBox<BoxFuture<int>>);
static_assert(!CanBox<LocalBoxFuture<int>>);
// Only a future with the right Output goes in.
static_assert(!std::is_constructible_v<BoxFuture<int>, ReadyFuture<std::string>>);
static_assert(!std::is_constructible_v<BoxFuture<int>, int>);
// Boxes move (the pointer) and are not copied.
static_assert(std::is_nothrow_move_constructible_v<BoxFuture<int>>);
static_assert(!std::is_copy_constructible_v<BoxFuture<int>>);

TEST(BoxFutureTest, ForwardsPollsToTheBoxedFuture) {
  Probe probe;
  BoxFuture<int> f = boxed(CountedFuture(&probe, 2));
  Context cx = Context::from_waker(Waker::noop());
  EXPECT_EQ(probe.polls, 0);  // boxing runs nothing
  EXPECT_TRUE(f.poll(cx).is_pending());
  EXPECT_TRUE(f.poll(cx).is_pending());
  EXPECT_EQ(f.poll(cx).value(), 3);
  EXPECT_EQ(probe.polls, 3);
}

// [START box_pins]
TEST(BoxFutureTest, MovingTheBoxNeverMovesThePolledFuture) {
  Probe probe;
  Context cx = Context::from_waker(Waker::noop());
  BoxFuture<int> a = boxed(CountedFuture(&probe, 3));
  EXPECT_TRUE(a.poll(cx).is_pending());
  BoxFuture<int> b = std::move(a);
  EXPECT_TRUE(b.poll(cx).is_pending());
  LocalBoxFuture<int> c = std::move(b);  // to a local box: still the same object
  EXPECT_TRUE(c.poll(cx).is_pending());
  EXPECT_TRUE(c.poll(cx).is_ready());
  EXPECT_EQ(probe.moves_after_first_poll, 0);
  EXPECT_FALSE(probe.moved_after_poll);
}
// [END box_pins]

TEST(BoxFutureTest, DestroysTheInnerFutureAsSoonAsItIsReady) {
  Probe probe;
  Context cx = Context::from_waker(Waker::noop());
  BoxFuture<int> f = boxed(CountedFuture(&probe, 0));
  EXPECT_FALSE(f.is_terminated());
  EXPECT_TRUE(f.poll(cx).is_ready());
  EXPECT_EQ(probe.destroyed, 1);  // before the box itself goes
  EXPECT_TRUE(f.is_terminated());
}

TEST(BoxFutureTest, DroppingAPendingBoxCancelsTheFutureOnce) {
  Probe probe;
  {
    Context cx = Context::from_waker(Waker::noop());
    LocalBoxFuture<int> f = boxed_local(CountedFuture(&probe, 100));
    EXPECT_TRUE(f.poll(cx).is_pending());
  }
  EXPECT_EQ(probe.destroyed, 1);
}

TEST(BoxFutureTest, PolledAfterCompletionThrowsWhateverTheInnerFutureDoes) {
  Context cx = Context::from_waker(Waker::noop());
  // A hand-made future that would return Ready again on every poll.
  struct AlwaysReady {
    using Output = int;
    Poll<int> poll(Context&) { return Ready(1); }
  };
  BoxFuture<int> send = boxed(AlwaysReady{});
  EXPECT_TRUE(send.poll(cx).is_ready());
  try {
    (void)send.poll(cx);
    FAIL() << "a finished BoxFuture returned from poll";
  } catch (const FuturePolledAfterCompletion& e) {
    EXPECT_NE(std::string(e.what()).find("`BoxFuture`"), std::string::npos) << e.what();
  }
  LocalBoxFuture<int> local = boxed_local(ready(2));
  EXPECT_EQ(local.poll(cx).value(), 2);
  try {
    (void)local.poll(cx);
    FAIL() << "a finished LocalBoxFuture returned from poll";
  } catch (const FuturePolledAfterCompletion& e) {
    EXPECT_NE(std::string(e.what()).find("`LocalBoxFuture`"), std::string::npos) << e.what();
  }
}

TEST(BoxFutureTest, PollingAMovedFromBoxThrows) {
  Context cx = Context::from_waker(Waker::noop());
  BoxFuture<int> a = boxed(pending<int>());
  BoxFuture<int> b = std::move(a);
  EXPECT_TRUE(a.is_terminated());  // NOLINT(bugprone-use-after-move)
  EXPECT_THROW((void)a.poll(cx), FuturePolledAfterCompletion);
  EXPECT_TRUE(b.poll(cx).is_pending());
}

TEST(BoxFutureTest, ABoxedPendingNeverCompletes) {
  Context cx = Context::from_waker(Waker::noop());
  LocalBoxFuture<Unit> f = boxed_local(pending());
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(f.poll(cx).is_pending());
  EXPECT_FALSE(f.is_terminated());
}

TEST(BoxFutureTest, AnExceptionFromTheInnerPollPropagatesAndKeepsTheFuture) {
  int calls = 0;
  Context cx = Context::from_waker(Waker::noop());
  BoxFuture<int> f = boxed(poll_fn([&](Context&) -> Poll<int> {
    if (++calls == 1) throw std::runtime_error("inner");
    return Ready(5);
  }));
  EXPECT_THROW((void)f.poll(cx), std::runtime_error);
  EXPECT_FALSE(f.is_terminated());
  EXPECT_EQ(f.poll(cx).value(), 5);
}

TEST(BoxFutureTest, ABoxCanBeBoxedAgain) {
  Context cx = Context::from_waker(Waker::noop());
  BoxFuture<int> inner = boxed(ready(4));
  BoxFuture<int> same = boxed(std::move(inner));  // Rust would box twice; this moves
  LocalBoxFuture<int> outer = boxed_local(std::move(same));
  EXPECT_EQ(outer.poll(cx).value(), 4);
}

}  // namespace
}  // namespace pollwake
