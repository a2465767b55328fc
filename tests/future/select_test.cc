// tests/future/select_test.cc: select and Either.
#include "poll/select.h"

#include <atomic>
#include <stdexcept>
#include <string>
#include <utility>

#include "gtest/gtest.h"
#include "poll/either.h"
#include "poll/ready.h"
#include "tests/future/test_util.h"

namespace pollwake {
namespace {

using testing::CountingWaker;
using testing::manual;
using testing::poll_once;
using testing::Tracked;

TEST(EitherTest, HoldsOneSideAndRefusesTheOther) {
  Either<int, std::string> l = Left(3);
  Either<int, std::string> r = Right(std::string("x"));
  EXPECT_TRUE(l.is_left());
  EXPECT_FALSE(l.is_right());
  EXPECT_EQ(l.left(), 3);
  EXPECT_THROW((void)l.right(), BadEitherAccess);
  EXPECT_TRUE(r.is_right());
  EXPECT_EQ(r.right(), "x");
  EXPECT_THROW((void)r.left(), BadEitherAccess);
}

TEST(EitherTest, SameTypeOnBothSidesKeepsTheSide) {
  Either<int, int> l = Left(1);
  Either<int, int> r = Right(1);
  EXPECT_TRUE(l.is_left());
  EXPECT_TRUE(r.is_right());
}

TEST(SelectTest, IsInertUntilPolled) {
  auto [a, sa] = manual<int>();
  auto [b, sb] = manual<int>();
  { auto s = select(std::move(a), std::move(b)); }
  EXPECT_EQ(sa->polls, 0);
  EXPECT_EQ(sb->polls, 0);
}

TEST(SelectTest, BothPendingHoldTheSelectsWaker) {
  CountingWaker cw;
  auto [a, sa] = manual<int>();
  auto [b, sb] = manual<int>();
  auto s = select(std::move(a), std::move(b));
  EXPECT_TRUE(poll_once(s, cw.waker()).is_pending());
  EXPECT_EQ(sa->polls, 1);
  EXPECT_EQ(sb->polls, 1);
  ASSERT_TRUE(sa->waker.has_waker() && sb->waker.has_waker());
  EXPECT_TRUE(sa->waker.will_wake(cw.waker()));
  EXPECT_TRUE(sb->waker.will_wake(cw.waker()));
}

TEST(SelectTest, SecondWinsAndTheUnfinishedFirstIsHandedBack) {
  CountingWaker cw;
  auto [a, sa] = manual<int>();
  auto [b, sb] = manual<std::string>();
  auto s = select(std::move(a), std::move(b));
  EXPECT_TRUE(poll_once(s, cw.waker()).is_pending());
  sb->complete("b wins");
  EXPECT_EQ(cw.wakes(), 1);

  auto p = poll_once(s, cw.waker());
  ASSERT_TRUE(p.is_ready());
  ASSERT_TRUE(p.value().is_right());
  auto [out, loser] = std::move(p).value().right();
  EXPECT_EQ(out, "b wins");
  EXPECT_EQ(sb->drops, 1);  // the winner is destroyed
  EXPECT_EQ(sa->drops, 0);  // the loser lives on, in our hands
  EXPECT_EQ(sa->polls, 2);

  // The loser keeps working where it left off.
  EXPECT_TRUE(poll_once(loser, cw.waker()).is_pending());
  sa->complete(5);
  auto pa = poll_once(loser, cw.waker());
  ASSERT_TRUE(pa.is_ready());
  EXPECT_EQ(pa.value(), 5);
}

TEST(SelectTest, BiasedTowardTheFirstWhenBothAreReady) {
  CountingWaker cw;
  auto [b, sb] = manual<int>();
  sb->complete(2);  // b is ready too, but a is polled first
  auto s = select(ready(1), std::move(b));
  auto p = poll_once(s, cw.waker());
  ASSERT_TRUE(p.is_ready());
  ASSERT_TRUE(p.value().is_left());
  EXPECT_EQ(p.value().left().first, 1);
  EXPECT_EQ(sb->polls, 0);  // b was never polled
}

TEST(SelectTest, PolledAfterCompletionThrows) {
  CountingWaker cw;
  auto s = select(ready(1), ready(2));
  ASSERT_TRUE(poll_once(s, cw.waker()).is_ready());
  EXPECT_THROW((void)poll_once(s, cw.waker()), FuturePolledAfterCompletion);
}

TEST(SelectTest, DroppingTheSelectDropsBothFutures) {
  CountingWaker cw;
  auto [a, sa] = manual<int>();
  auto [b, sb] = manual<int>();
  {
    auto s = select(std::move(a), std::move(b));
    EXPECT_TRUE(poll_once(s, cw.waker()).is_pending());
  }
  EXPECT_EQ(sa->drops, 1);
  EXPECT_EQ(sb->drops, 1);
  EXPECT_EQ(cw.live(), 0);
}

TEST(SelectTest, TheWinnersOutputIsMovedNotCopied) {
  CountingWaker cw;
  std::atomic<int> drops{0};
  auto [a, sa] = manual<Tracked>();
  auto [b, sb] = manual<int>();
  {
    auto s = select(std::move(a), std::move(b));
    EXPECT_TRUE(poll_once(s, cw.waker()).is_pending());
    sa->complete(Tracked(9, &drops));
    auto p = poll_once(s, cw.waker());
    ASSERT_TRUE(p.is_ready());
    EXPECT_EQ(p.value().left().first.value(), 9);
    EXPECT_EQ(drops, 0);
  }
  EXPECT_EQ(drops, 1);      // exactly one Tracked existed
  EXPECT_EQ(sb->drops, 1);  // the loser died with the output
}

struct Throwing {
  using Output = int;
  Poll<int> poll(Context&) { throw std::runtime_error("boom"); }
};

TEST(SelectTest, ExceptionFromAFutureLeavesPollAndBothStay) {
  CountingWaker cw;
  auto [b, sb] = manual<int>();
  {
    auto s = select(Throwing{}, std::move(b));
    EXPECT_THROW((void)poll_once(s, cw.waker()), std::runtime_error);
    EXPECT_EQ(sb->polls, 0);
    EXPECT_EQ(sb->drops, 0);
  }
  EXPECT_EQ(sb->drops, 1);
}

}  // namespace
}  // namespace pollwake
