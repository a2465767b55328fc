// exercises/08_cancel_safety_test.cc: CancelSafetyExerciseTest.
#include "exercise/08_cancel_safety.h"

#include <gtest/gtest.h>

#include "poll/future.h"

namespace exercises {
namespace {

static_assert(pollwake::Future<PairLoop>);

TEST(CancelSafetyExerciseTest, NoItemIsLostWhenTheTickWins) {
  TaskProbe task;
  Context cx = Context::from_waker(task.waker());
  Queue q;
  Ticker ticker;
  PairLoop loop(q, ticker, 1);
  q.push(1);
  ASSERT_TRUE(loop.poll(cx).is_pending());  // batch2 holds item 1
  ticker.fire();
  ASSERT_TRUE(loop.poll(cx).is_pending());  // the tick wins this turn
  EXPECT_EQ(loop.ticks, 1);
  q.push(2);
  q.push(3);
  ASSERT_TRUE(loop.poll(cx).is_ready());
  ASSERT_EQ(loop.pairs.size(), 1u);
  EXPECT_EQ(loop.pairs[0], (std::pair<int, int>(1, 2)))
      << "an item was lost: the Batch2 that lost the select held item 1 and was dropped";
}

TEST(CancelSafetyExerciseTest, PairsWithoutTicks) {
  TaskProbe task;
  Context cx = Context::from_waker(task.waker());
  Queue q;
  Ticker ticker;
  PairLoop loop(q, ticker, 2);
  for (int i = 1; i <= 4; ++i) q.push(i);
  ASSERT_TRUE(loop.poll(cx).is_ready());
  EXPECT_EQ(loop.pairs, (std::vector<std::pair<int, int>>{{1, 2}, {3, 4}}));
  EXPECT_EQ(loop.ticks, 0);
}

}  // namespace
}  // namespace exercises
