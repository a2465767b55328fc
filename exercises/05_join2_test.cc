// exercises/05_join2_test.cc: Join2ExerciseTest.
#include "exercise/05_join2.h"

#include <gtest/gtest.h>

#include "poll/future.h"

namespace exercises {
namespace {

// Strict: an Event that counts (instead of throwing) polls after its Ready,
// so the test can say what went wrong.
class Strict {
 public:
  using Output = std::uint32_t;
  Strict(EventSlot& slot, int& late_polls) : event_(slot), late_(&late_polls) {}
  Poll<std::uint32_t> poll(Context& cx) {
    if (done_) {
      ++*late_;
      return Ready(0u);
    }
    Poll<std::uint32_t> p = event_.poll(cx);
    done_ = p.is_ready();
    return p;
  }

 private:
  Event event_;
  int* late_;
  bool done_ = false;
};

static_assert(pollwake::Future<Join2<Strict, Strict>>);

TEST(Join2ExerciseTest, NeverPollsAFinishedFutureAgain) {
  TaskProbe task;
  Context cx = Context::from_waker(task.waker());
  EventSlot a, b;
  int late = 0;
  auto j = join2(Strict(a, late), Strict(b, late));
  ASSERT_TRUE(j.poll(cx).is_pending());
  a.fire(1);
  ASSERT_TRUE(j.poll(cx).is_pending());
  b.fire(2);
  Poll<std::pair<std::uint32_t, std::uint32_t>> p = j.poll(cx);
  EXPECT_EQ(late, 0) << "join2 polled a future again after it returned Ready";
  ASSERT_TRUE(p.is_ready());
  EXPECT_EQ(p.value(), (std::pair<std::uint32_t, std::uint32_t>(1, 2)));
}

TEST(Join2ExerciseTest, PollsBothWhileBothPending) {
  TaskProbe task;
  Context cx = Context::from_waker(task.waker());
  EventSlot a, b;
  int late = 0;
  auto j = join2(Strict(a, late), Strict(b, late));
  ASSERT_TRUE(j.poll(cx).is_pending());
  EXPECT_EQ(a.polls, 1);
  EXPECT_EQ(b.polls, 1) << "join2 must poll `b` too, so that `b` stores the waker";
  b.fire(5);
  a.fire(4);
  EXPECT_EQ(task.wakes(), 2);
}

}  // namespace
}  // namespace exercises
