// exercises/03_lost_wakeup_test.cc: LostWakeupExerciseTest.
#include "exercise/03_lost_wakeup.h"

#include <gtest/gtest.h>

#include "poll/future.h"

namespace exercises {
namespace {

static_assert(pollwake::Future<Doorbell::Wait>);

TEST(LostWakeupExerciseTest, RingWakesTheWaitingTask) {
  TaskProbe task;
  Context cx = Context::from_waker(task.waker());
  Doorbell bell;
  Doorbell::Wait w = bell.wait();
  ASSERT_TRUE(w.poll(cx).is_pending());
  EXPECT_EQ(task.wakes(), 0) << "Pending woke the task at once: that is a busy loop, not a "
                                "wakeup; leave the waker where ring() will find it";
  bell.ring();
  ASSERT_EQ(task.wakes(), 1) << "lost wakeup: the future returned Pending, then ring() woke "
                                "nobody, so no executor would ever poll it again";
  EXPECT_TRUE(w.poll(cx).is_ready());
}

TEST(LostWakeupExerciseTest, ReadyWithoutWaitingWhenAlreadyRung) {
  TaskProbe task;
  Context cx = Context::from_waker(task.waker());
  Doorbell bell;
  bell.ring();
  Doorbell::Wait w = bell.wait();
  EXPECT_TRUE(w.poll(cx).is_ready());
  EXPECT_EQ(task.wakes(), 0);
}

}  // namespace
}  // namespace exercises
