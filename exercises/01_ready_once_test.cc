// exercises/01_ready_once_test.cc: ReadyOnceExerciseTest.
#include "exercise/01_ready_once.h"

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "poll/future.h"

namespace exercises {
namespace {

static_assert(pollwake::Future<ReadyOnce<int>>);

TEST(ReadyOnceExerciseTest, FirstPollIsReady) {
  TaskProbe task;
  Context cx = Context::from_waker(task.waker());
  ReadyOnce<std::string> f(std::string("hello"));
  Poll<std::string> p = f.poll(cx);
  ASSERT_TRUE(p.is_ready()) << "the first poll must return Ready";
  EXPECT_EQ(p.value(), "hello");
}

TEST(ReadyOnceExerciseTest, SecondPollThrows) {
  TaskProbe task;
  Context cx = Context::from_waker(task.waker());
  ReadyOnce<int> f(7);
  ASSERT_TRUE(f.poll(cx).is_ready());
  EXPECT_THROW((void)f.poll(cx), pollwake::FuturePolledAfterCompletion)
      << "ReadyOnce handed its value over twice: a second poll must throw "
         "FuturePolledAfterCompletion";
}

}  // namespace
}  // namespace exercises
