// exercises/10_stream_sum_test.cc: StreamSumExerciseTest.
#include "exercise/10_stream_sum.h"

#include <vector>

#include <gtest/gtest.h>

#include "poll/future.h"
#include "poll/mpsc.h"

namespace exercises {
namespace {

TEST(StreamSumExerciseTest, ReadyItemsAreSummedInOnePoll) {
  TaskProbe task;
  Context cx = Context::from_waker(task.waker());
  auto s = sum(pollwake::iter(std::vector<int>{1, 2, 3}));
  Poll<int> p = s.poll(cx);
  EXPECT_EQ(task.wakes(), 0);
  ASSERT_TRUE(p.is_ready()) << "Sum returned Pending while its stream was ready, and nothing "
                               "will wake it: a lost wakeup";
  EXPECT_EQ(p.value(), 6);
}

TEST(StreamSumExerciseTest, AnEmptyStreamSumsToZero) {
  TaskProbe task;
  Context cx = Context::from_waker(task.waker());
  auto s = sum(pollwake::iter(std::vector<int>{}));
  Poll<int> p = s.poll(cx);
  ASSERT_TRUE(p.is_ready());
  EXPECT_EQ(p.value(), 0);
}

TEST(StreamSumExerciseTest, WaitsForAChannelUntilItsSendersAreGone) {
  TaskProbe task;
  Context cx = Context::from_waker(task.waker());
  auto [tx, rx] = pollwake::mpsc::unbounded<int>();
  auto s = sum(std::move(rx));
  ASSERT_TRUE(s.poll(cx).is_pending());  // empty: the receiver keeps the waker
  ASSERT_TRUE(tx.unbounded_send(4).is_ok());
  EXPECT_EQ(task.wakes(), 1);
  { auto gone = std::move(tx); }
  Poll<int> p = s.poll(cx);
  for (int i = 0; i < 3 && p.is_pending(); ++i) p = s.poll(cx);  // one poll per item is
  ASSERT_TRUE(p.is_ready());  // ReadyItemsAreSummedInOnePoll's business, not this test's
  EXPECT_EQ(p.value(), 4);
}

}  // namespace
}  // namespace exercises
