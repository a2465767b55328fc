// tests/future/join_test.cc: join (two and more futures) and join_all.
#include "poll/join.h"

#include <atomic>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "poll/ready.h"
#include "tests/future/test_util.h"

namespace pollwake {
namespace {

using testing::CountingWaker;
using testing::manual;
using testing::ManualFuture;
using testing::poll_once;
using testing::Tracked;

TEST(JoinTest, IsInertUntilPolled) {
  auto [a, sa] = manual<int>();
  auto [b, sb] = manual<int>();
  {
    auto j = join(std::move(a), std::move(b));
    EXPECT_EQ(sa->polls, 0);
    EXPECT_EQ(sb->polls, 0);
  }
  EXPECT_EQ(sa->polls, 0);
  EXPECT_EQ(sb->polls, 0);
}

TEST(JoinTest, ReadyFuturesFinishInOnePoll) {
  CountingWaker cw;
  auto j = join(ready(1), ready(std::string("two")));
  auto p = poll_once(j, cw.waker());
  ASSERT_TRUE(p.is_ready());
  EXPECT_EQ(std::get<0>(p.value()), 1);
  EXPECT_EQ(std::get<1>(p.value()), "two");
  EXPECT_EQ(cw.woken(), 0);
}

TEST(JoinTest, PollsOnlyUnfinishedFuturesAndPassesTheWakerDown) {
  CountingWaker cw;
  auto [a, sa] = manual<int>();
  auto [b, sb] = manual<std::string>();
  auto j = join(std::move(a), std::move(b));

  EXPECT_TRUE(poll_once(j, cw.waker()).is_pending());
  EXPECT_EQ(sa->polls, 1);
  EXPECT_EQ(sb->polls, 1);
  // Each pending inner future holds (a clone of) the Join's waker.
  ASSERT_TRUE(sa->waker.has_waker() && sb->waker.has_waker());
  EXPECT_TRUE(sa->waker.will_wake(cw.waker()));
  EXPECT_TRUE(sb->waker.will_wake(cw.waker()));

  sa->complete(7);  // wakes the Join's waker
  EXPECT_EQ(cw.wakes(), 1);
  EXPECT_TRUE(poll_once(j, cw.waker()).is_pending());
  EXPECT_EQ(sa->polls, 2);
  EXPECT_EQ(sb->polls, 2);
  EXPECT_EQ(sa->drops, 1);  // a finished: destroyed at once, output kept

  EXPECT_TRUE(poll_once(j, cw.waker()).is_pending());
  EXPECT_EQ(sa->polls, 2);  // never polled again
  EXPECT_EQ(sb->polls, 3);

  sb->complete("done");
  auto p = poll_once(j, cw.waker());
  ASSERT_TRUE(p.is_ready());
  EXPECT_EQ(p.value(), std::make_tuple(7, std::string("done")));
  EXPECT_EQ(sa->polls, 2);
  EXPECT_EQ(sb->polls, 4);
  EXPECT_EQ(cw.live(), 0);  // every stored clone was released
}

TEST(JoinTest, OutputsKeepArgumentOrderWhateverTheFinishOrder) {
  CountingWaker cw;
  auto [a, sa] = manual<int>();
  auto [b, sb] = manual<int>();
  auto [c, sc] = manual<int>();
  auto j = join(std::move(a), std::move(b), std::move(c));
  EXPECT_TRUE(poll_once(j, cw.waker()).is_pending());
  sc->complete(3);
  EXPECT_TRUE(poll_once(j, cw.waker()).is_pending());
  sa->complete(1);
  EXPECT_TRUE(poll_once(j, cw.waker()).is_pending());
  sb->complete(2);
  auto p = poll_once(j, cw.waker());
  ASSERT_TRUE(p.is_ready());
  EXPECT_EQ(p.value(), std::make_tuple(1, 2, 3));
  EXPECT_EQ(cw.wakes(), 3);
}

TEST(JoinTest, PolledAfterCompletionThrows) {
  CountingWaker cw;
  auto j = join(ready(1), ready(2));
  ASSERT_TRUE(poll_once(j, cw.waker()).is_ready());
  EXPECT_THROW((void)poll_once(j, cw.waker()), FuturePolledAfterCompletion);
}

TEST(JoinTest, DroppingTheJoinDropsUnfinishedFuturesAndKeptOutputs) {
  CountingWaker cw;
  std::atomic<int> output_drops{0};
  auto [a, sa] = manual<Tracked>();
  auto [b, sb] = manual<int>();
  {
    auto j = join(std::move(a), std::move(b));
    EXPECT_TRUE(poll_once(j, cw.waker()).is_pending());
    sa->complete(Tracked(1, &output_drops));
    EXPECT_TRUE(poll_once(j, cw.waker()).is_pending());
    EXPECT_EQ(sa->drops, 1);    // finished future already gone
    EXPECT_EQ(output_drops, 0);  // its output is kept
    EXPECT_EQ(sb->drops, 0);
  }
  EXPECT_EQ(output_drops, 1);  // the kept output died with the Join
  EXPECT_EQ(sb->drops, 1);     // so did the unfinished future
  EXPECT_EQ(cw.live(), 0);
}

struct Throwing {
  using Output = int;
  Poll<int> poll(Context&) { throw std::runtime_error("boom"); }
};

TEST(JoinTest, ExceptionFromAnInnerFutureLeavesPollAndTheJoinCanBeDropped) {
  CountingWaker cw;
  auto [a, sa] = manual<int>();
  {
    auto j = join(std::move(a), Throwing{});
    EXPECT_THROW((void)poll_once(j, cw.waker()), std::runtime_error);
    EXPECT_EQ(sa->polls, 1);  // polled first, in argument order
  }
  EXPECT_EQ(sa->drops, 1);
  EXPECT_EQ(cw.live(), 0);
}

TEST(JoinAllTest, OutputsComeInVectorOrder) {
  CountingWaker cw;
  std::vector<ManualFuture<int>> futures;
  std::vector<std::shared_ptr<testing::ManualState<int>>> states;
  for (int i = 0; i < 5; ++i) {
    auto [f, s] = manual<int>();
    futures.push_back(std::move(f));
    states.push_back(s);
  }
  auto j = join_all(std::move(futures));
  EXPECT_TRUE(poll_once(j, cw.waker()).is_pending());
  for (int i = 4; i >= 0; --i) {
    states[i]->complete(i * 10);
    auto p = poll_once(j, cw.waker());
    if (i > 0) {
      EXPECT_TRUE(p.is_pending());
      EXPECT_EQ(states[i]->drops, 1);
    } else {
      ASSERT_TRUE(p.is_ready());
      EXPECT_EQ(p.value(), (std::vector<int>{0, 10, 20, 30, 40}));
    }
  }
  // Future i was polled once at first, then once per poll until it finished.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(states[i]->polls, 1 + (5 - i)) << "future " << i;
  EXPECT_EQ(cw.wakes(), 5);
  EXPECT_THROW((void)poll_once(j, cw.waker()), FuturePolledAfterCompletion);
}

TEST(JoinAllTest, EmptyVectorIsReadyAtOnce) {
  CountingWaker cw;
  auto j = join_all(std::vector<ReadyFuture<int>>{});
  auto p = poll_once(j, cw.waker());
  ASSERT_TRUE(p.is_ready());
  EXPECT_TRUE(p.value().empty());
}

TEST(JoinAllTest, DroppingJoinAllDropsEveryInnerFuture) {
  CountingWaker cw;
  auto [a, sa] = manual<int>();
  auto [b, sb] = manual<int>();
  std::vector<ManualFuture<int>> futures;
  futures.push_back(std::move(a));
  futures.push_back(std::move(b));
  {
    auto j = join_all(std::move(futures));
    EXPECT_TRUE(poll_once(j, cw.waker()).is_pending());
  }
  EXPECT_EQ(sa->drops, 1);
  EXPECT_EQ(sb->drops, 1);
  EXPECT_EQ(cw.live(), 0);
}

}  // namespace
}  // namespace pollwake
