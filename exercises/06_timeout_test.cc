// exercises/06_timeout_test.cc: TimeoutExerciseTest. The "timer" is an Event
// the test fires, so no test waits for real time.
#include "exercise/06_timeout.h"

#include <gtest/gtest.h>

namespace exercises {
namespace {

TEST(TimeoutExerciseTest, WorkThatFinishesFirstWins) {
  TaskProbe task;
  Context cx = Context::from_waker(task.waker());
  EventSlot work, timer;
  auto t = with_timeout(Event{work}, Event{timer});
  ASSERT_TRUE(t.poll(cx).is_pending());
  work.fire(9);
  EXPECT_EQ(task.wakes(), 1);
  auto p = t.poll(cx);
  ASSERT_TRUE(p.is_ready());
  EXPECT_EQ(p.value(), std::optional<std::uint32_t>(9));
}

TEST(TimeoutExerciseTest, TimerThatFiresFirstGivesUp) {
  TaskProbe task;
  Context cx = Context::from_waker(task.waker());
  EventSlot work, timer;  // `work` never fires
  auto t = with_timeout(Event{work}, Event{timer});
  ASSERT_TRUE(t.poll(cx).is_pending());
  timer.fire(0);
  EXPECT_EQ(task.wakes(), 1) << "the timer fired but nobody was woken: it was never polled";
  auto p = t.poll(cx);
  ASSERT_TRUE(p.is_ready()) << "the timer fired: with_timeout must give up with nullopt";
  EXPECT_EQ(p.value(), std::nullopt);
}

}  // namespace
}  // namespace exercises
