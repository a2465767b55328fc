// tests/future/yield_now_test.cc: yield_now.
#include "poll/yield_now.h"

#include "gtest/gtest.h"
#include "poll/join.h"
#include "tests/future/test_util.h"

namespace pollwake {
namespace {

using testing::CountingWaker;
using testing::poll_once;

TEST(YieldNowTest, IsInertUntilPolled) {
  CountingWaker cw;
  { [[maybe_unused]] auto y = yield_now(); }
  EXPECT_EQ(cw.woken(), 0);
}

TEST(YieldNowTest, WakesItsOwnWakerOnceThenIsReady) {
  CountingWaker cw;
  auto y = yield_now();
  EXPECT_TRUE(poll_once(y, cw.waker()).is_pending());
  EXPECT_EQ(cw.wake_by_refs(), 1);  // woken before returning Pending
  EXPECT_EQ(cw.clones(), 0);        // and no clone kept
  EXPECT_TRUE(poll_once(y, cw.waker()).is_ready());
  EXPECT_EQ(cw.woken(), 1);
}

TEST(YieldNowTest, PolledAfterCompletionThrows) {
  CountingWaker cw;
  auto y = yield_now();
  (void)poll_once(y, cw.waker());
  (void)poll_once(y, cw.waker());
  EXPECT_THROW((void)poll_once(y, cw.waker()), FuturePolledAfterCompletion);
}

TEST(YieldNowTest, TwoYieldsJoinedTakeTwoPolls) {
  CountingWaker cw;
  auto j = join(yield_now(), yield_now());
  EXPECT_TRUE(poll_once(j, cw.waker()).is_pending());
  EXPECT_EQ(cw.wake_by_refs(), 2);  // each woke the Join's waker
  EXPECT_TRUE(poll_once(j, cw.waker()).is_ready());
}

}  // namespace
}  // namespace pollwake
