// exercises/02_async_fn_machine_test.cc: AsyncFnMachineExerciseTest.
#include "exercise/02_async_fn_machine.h"

#include <gtest/gtest.h>

#include "poll/future.h"

namespace exercises {
namespace {

static_assert(pollwake::Future<AddTwo>);

TEST(AsyncFnMachineExerciseTest, AwaitsAThenBAndAddsThem) {
  TaskProbe task;
  Context cx = Context::from_waker(task.waker());
  EventSlot a, b;
  AddTwo f(Event{a}, Event{b});
  EXPECT_EQ(a.polls, 0) << "a future does nothing until polled";
  ASSERT_TRUE(f.poll(cx).is_pending());
  EXPECT_EQ(b.polls, 0) << "`b` must not be polled before `a` is Ready";
  a.fire(1);
  ASSERT_TRUE(f.poll(cx).is_pending());
  b.fire(2);
  EXPECT_EQ(task.wakes(), 2);
  Poll<std::uint32_t> p = f.poll(cx);
  ASSERT_TRUE(p.is_ready()) << "add_two must be Ready(x + y) once both events fired";
  EXPECT_EQ(p.value(), 3u);
  EXPECT_THROW((void)f.poll(cx), pollwake::FuturePolledAfterCompletion);
}

}  // namespace
}  // namespace exercises
