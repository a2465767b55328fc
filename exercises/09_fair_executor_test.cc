// exercises/09_fair_executor_test.cc: FairExecutorExerciseTest.
#include "exercise/09_fair_executor.h"

#include <gtest/gtest.h>

namespace exercises {
namespace {

// Spinner: yields `n` times (wake itself, Pending), then Ready.
class Spinner {
 public:
  using Output = pollwake::Unit;
  explicit Spinner(int n) : left_(n) {}
  Poll<pollwake::Unit> poll(Context& cx) {
    if (left_ == 0) return Ready();
    --left_;
    cx.waker().wake_by_ref();
    return Pending;
  }

 private:
  int left_;
};

class SetFlag {
 public:
  using Output = pollwake::Unit;
  explicit SetFlag(bool& flag) : flag_(&flag) {}
  Poll<pollwake::Unit> poll(Context&) {
    *flag_ = true;
    return Ready();
  }

 private:
  bool* flag_;
};

TEST(FairExecutorExerciseTest, AYieldingTaskDoesNotStarveTheOthers) {
  ToyExecutor ex;
  bool other_ran = false;
  ex.spawn(pollwake::boxed_local(Spinner(1000)));
  ex.spawn(pollwake::boxed_local(SetFlag(other_ran)));
  ex.run(10);
  EXPECT_TRUE(other_ran) << "unfair: in 10 polls the other task never ran; the yielding task "
                            "was put back at the front of the queue every time";
}

TEST(FairExecutorExerciseTest, RunsEveryTaskToCompletion) {
  ToyExecutor ex;
  bool ran = false;
  ex.spawn(pollwake::boxed_local(Spinner(3)));
  ex.spawn(pollwake::boxed_local(SetFlag(ran)));
  EXPECT_EQ(ex.run(100), 5);  // 4 polls of the spinner, 1 of SetFlag
  EXPECT_TRUE(ran);
}

}  // namespace
}  // namespace exercises
