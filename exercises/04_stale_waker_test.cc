// exercises/04_stale_waker_test.cc: StaleWakerExerciseTest.
#include "exercise/04_stale_waker.h"

#include <gtest/gtest.h>

namespace exercises {
namespace {

TEST(StaleWakerExerciseTest, RingWakesTheLatestPollsWaker) {
  TaskProbe first, second;
  Context cx1 = Context::from_waker(first.waker());
  Context cx2 = Context::from_waker(second.waker());
  Doorbell bell;
  Doorbell::Wait w = bell.wait();
  ASSERT_TRUE(w.poll(cx1).is_pending());
  ASSERT_TRUE(w.poll(cx2).is_pending());  // polled again, with another waker
  bell.ring();
  EXPECT_EQ(second.wakes(), 1) << "stale waker: ring() must wake the waker of the latest poll";
  EXPECT_EQ(first.wakes(), 0) << "stale waker: the first poll's waker is no longer the task's";
}

TEST(StaleWakerExerciseTest, SameWakerTwiceWakesOnce) {
  TaskProbe task;
  Context cx = Context::from_waker(task.waker());
  Doorbell bell;
  Doorbell::Wait w = bell.wait();
  ASSERT_TRUE(w.poll(cx).is_pending());
  ASSERT_TRUE(w.poll(cx).is_pending());
  bell.ring();
  EXPECT_EQ(task.wakes(), 1);
}

}  // namespace
}  // namespace exercises
