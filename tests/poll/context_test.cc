// tests/poll/context_test.cc: Context (Rust's std::task::Context) from
// poll/context.h.
#include "poll/context.h"

#include <type_traits>
#include <utility>

#include <gtest/gtest.h>

#include "poll/waker.h"
#include "tests/support/counting_waker.h"

namespace pollwake {
namespace {

using testing::CountingWaker;

// A Context lives on the poller's stack for one poll: it cannot be copied or
// moved out (Rust's lifetime 'a does this job).
static_assert(!std::is_copy_constructible_v<Context>);
static_assert(!std::is_move_constructible_v<Context>);
static_assert(!std::is_copy_assignable_v<Context>);
static_assert(!std::is_move_assignable_v<Context>);

// from_waker borrows an lvalue Waker; a temporary would leave it dangling.
template <class W>
concept CanBuildContextFrom = requires(W&& w) { Context::from_waker(std::forward<W>(w)); };
static_assert(CanBuildContextFrom<Waker&>);
static_assert(CanBuildContextFrom<const Waker&>);
static_assert(!CanBuildContextFrom<Waker>);
static_assert(!CanBuildContextFrom<const Waker>);

TEST(ContextTest, FromWakerBorrowsWithoutCloning) {
  CountingWaker c;
  {
    Waker w = c.owned();
    Context cx = Context::from_waker(w);
    EXPECT_EQ(&cx.waker(), &w);  // the very same object, not a copy
    EXPECT_EQ(c.clones(), 0);
    EXPECT_EQ(c.drops(), 0);
  }
  EXPECT_EQ(c.drops(), 1);  // only the Waker's own drop
  EXPECT_EQ(c.live(), 0);
}

TEST(ContextTest, WakerCanBeWokenThroughTheContext) {
  CountingWaker c;
  {
    Waker w = c.owned();
    Context cx = Context::from_waker(w);
    cx.waker().wake_by_ref();
    EXPECT_EQ(c.wake_by_refs(), 1);
  }
  EXPECT_EQ(c.live(), 0);
}

TEST(ContextTest, AFutureKeepsTheWakerByCloningIt) {
  CountingWaker c;
  {
    Waker w = c.owned();
    Context cx = Context::from_waker(w);
    Waker kept = cx.waker();  // what a Pending future does
    EXPECT_EQ(c.clones(), 1);
    EXPECT_TRUE(kept.will_wake(cx.waker()));
    std::move(kept).wake();
    EXPECT_EQ(c.wakes(), 1);
  }
  EXPECT_EQ(c.live(), 0);
}

TEST(ContextTest, WorksWithTheNoopWaker) {
  Context cx = Context::from_waker(Waker::noop());
  EXPECT_EQ(&cx.waker(), &Waker::noop());
  cx.waker().wake_by_ref();  // does nothing, safely
}

}  // namespace
}  // namespace pollwake
