// tests/future/future_ext_test.cc: map and then, and their pipe forms.
#include "poll/future_ext.h"

#include <atomic>
#include <stdexcept>
#include <string>
#include <utility>

#include "gtest/gtest.h"
#include "poll/ready.h"
#include "tests/future/test_util.h"

namespace pollwake {
namespace {

using testing::CountingWaker;
using testing::manual;
using testing::poll_once;
using testing::Tracked;

TEST(MapTest, AppliesTheFunctionToTheOutput) {
  CountingWaker cw;
  auto m = map(ready(2), [](int x) { return std::to_string(x * 2); });
  static_assert(std::is_same_v<decltype(m)::Output, std::string>);
  auto p = poll_once(m, cw.waker());
  ASSERT_TRUE(p.is_ready());
  EXPECT_EQ(p.value(), "4");
}

TEST(MapTest, IsInertUntilPolledAndPassesTheWakerDown) {
  CountingWaker cw;
  auto [f, s] = manual<int>();
  int calls = 0;
  auto m = map(std::move(f), [&calls](int x) {
    ++calls;
    return x + 1;
  });
  EXPECT_EQ(s->polls, 0);
  EXPECT_TRUE(poll_once(m, cw.waker()).is_pending());
  EXPECT_EQ(calls, 0);
  ASSERT_TRUE(s->waker.has_waker());
  EXPECT_TRUE(s->waker.will_wake(cw.waker()));
  s->complete(41);
  EXPECT_EQ(cw.wakes(), 1);
  auto p = poll_once(m, cw.waker());
  ASSERT_TRUE(p.is_ready());
  EXPECT_EQ(p.value(), 42);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(s->drops, 1);  // the inner future is gone once finished
}

TEST(MapTest, VoidFunctionGivesUnit) {
  CountingWaker cw;
  int seen = 0;
  auto m = map(ready(5), [&seen](int x) { seen = x; });
  static_assert(std::is_same_v<decltype(m)::Output, Unit>);
  EXPECT_TRUE(poll_once(m, cw.waker()).is_ready());
  EXPECT_EQ(seen, 5);
}

TEST(MapTest, PolledAfterCompletionThrows) {
  CountingWaker cw;
  auto m = ready(1) | map([](int x) { return x; });
  ASSERT_TRUE(poll_once(m, cw.waker()).is_ready());
  EXPECT_THROW((void)poll_once(m, cw.waker()), FuturePolledAfterCompletion);
}

TEST(MapTest, ClosureIsDestroyedAfterItsOneCall) {
  CountingWaker cw;
  std::atomic<int> drops{0};
  auto m = map(ready(1), [t = Tracked(0, &drops)](int x) { return x; });
  EXPECT_EQ(drops, 0);
  ASSERT_TRUE(poll_once(m, cw.waker()).is_ready());
  EXPECT_EQ(drops, 1);  // gone before the Map itself
}

TEST(MapTest, ThrowingClosureFinishesTheMap) {
  CountingWaker cw;
  auto m = map(ready(1), [](int) -> int { throw std::runtime_error("boom"); });
  EXPECT_THROW((void)poll_once(m, cw.waker()), std::runtime_error);
  EXPECT_THROW((void)poll_once(m, cw.waker()), FuturePolledAfterCompletion);
}

TEST(ThenTest, PollsTheSecondFutureInTheSamePoll) {
  CountingWaker cw;
  auto t = then(ready(1), [](int x) { return ready(x + 1); });
  auto p = poll_once(t, cw.waker());
  ASSERT_TRUE(p.is_ready());
  EXPECT_EQ(p.value(), 2);
  EXPECT_THROW((void)poll_once(t, cw.waker()), FuturePolledAfterCompletion);
}

TEST(ThenTest, WaitsForEachFutureInTurnWithTheSameWaker) {
  CountingWaker cw;
  auto [first, s1] = manual<int>();
  auto [second, s2] = manual<std::string>();
  int calls = 0;
  auto t = then(std::move(first), [&calls, g = std::move(second)](int x) mutable {
    ++calls;
    EXPECT_EQ(x, 10);
    return std::move(g);
  });
  EXPECT_TRUE(poll_once(t, cw.waker()).is_pending());
  s1->complete(10);
  EXPECT_TRUE(poll_once(t, cw.waker()).is_pending());  // first done, second pending
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(s1->drops, 1);
  EXPECT_EQ(s2->polls, 1);  // polled in the same poll that finished the first
  ASSERT_TRUE(s2->waker.has_waker());
  EXPECT_TRUE(s2->waker.will_wake(cw.waker()));
  s2->complete("end");
  auto p = poll_once(t, cw.waker());
  ASSERT_TRUE(p.is_ready());
  EXPECT_EQ(p.value(), "end");
  EXPECT_EQ(s1->polls, 2);
  EXPECT_EQ(s2->polls, 2);
  EXPECT_EQ(s2->drops, 1);
}

TEST(ThenTest, DroppingItInEitherStateDropsWhatItHolds) {
  CountingWaker cw;
  {  // state 1: the first future and the closure (which owns the second)
    auto [first, s1] = manual<int>();
    auto [second, s2] = manual<int>();
    {
      auto t = then(std::move(first),
                    [g = std::move(second)](int) mutable { return std::move(g); });
      EXPECT_TRUE(poll_once(t, cw.waker()).is_pending());
    }
    EXPECT_EQ(s1->drops, 1);
    EXPECT_EQ(s2->drops, 1);
    EXPECT_EQ(s2->polls, 0);
  }
  {  // state 2: the second future
    auto [second, s2] = manual<int>();
    {
      auto t = then(ready(0), [g = std::move(second)](int) mutable { return std::move(g); });
      EXPECT_TRUE(poll_once(t, cw.waker()).is_pending());
      EXPECT_EQ(s2->drops, 0);
    }
    EXPECT_EQ(s2->drops, 1);
  }
  EXPECT_EQ(cw.live(), 0);
}

TEST(FutureExtTest, PipesReadLeftToRight) {
  CountingWaker cw;
  auto f = ready(2) | map([](int x) { return x * 10; }) |
           then([](int x) { return ready(std::to_string(x)); }) |
           map([](std::string s) { return s + "!"; });
  auto p = poll_once(f, cw.waker());
  ASSERT_TRUE(p.is_ready());
  EXPECT_EQ(p.value(), "20!");
}

}  // namespace
}  // namespace pollwake
