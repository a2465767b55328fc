// tests/poll/stream_test.cc: StreamTest, for poll/stream.h (the Stream
// concept, next, for_each, iter) and mpsc::Receiver seen as a Stream.
#include "poll/stream.h"

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "poll/context.h"
#include "poll/future.h"
#include "poll/mpsc.h"
#include "poll/poll.h"
#include "tests/support/counting_waker.h"

namespace pollwake {
namespace {

using testing::CountingWaker;

static_assert(Stream<Iter<int>>);
static_assert(Stream<mpsc::Receiver<std::string>>);
static_assert(std::same_as<StreamItem<mpsc::Receiver<std::string>>, std::string>);
static_assert(!Stream<int>);
static_assert(Future<NextItem<Iter<int>>>);

TEST(StreamTest, IterYieldsItsItemsThenEndsAndStaysEnded) {
  CountingWaker task;
  Context cx = Context::from_waker(task.waker());
  Iter<int> s = iter(std::vector<int>{1, 2});
  EXPECT_EQ(s.poll_next(cx).value(), std::optional<int>(1));
  EXPECT_EQ(s.poll_next(cx).value(), std::optional<int>(2));
  EXPECT_EQ(s.poll_next(cx).value(), std::nullopt);
  EXPECT_EQ(s.poll_next(cx).value(), std::nullopt);  // fused
}

TEST(StreamTest, NextOnAReceiverWaitsThenYieldsTheMessage) {
  CountingWaker task;
  Context cx = Context::from_waker(task.waker());
  auto [tx, rx] = mpsc::unbounded<int>();
  NextItem<mpsc::Receiver<int>> n = next(rx);
  EXPECT_TRUE(n.poll(cx).is_pending());
  EXPECT_EQ(task.woken(), 0);
  ASSERT_TRUE(tx.unbounded_send(7).is_ok());
  EXPECT_EQ(task.woken(), 1);  // the send woke the stored waker
  EXPECT_EQ(n.poll(cx).value(), std::optional<int>(7));
}

TEST(StreamTest, NextPolledAfterReadyThrows) {
  CountingWaker task;
  Context cx = Context::from_waker(task.waker());
  Iter<int> s = iter(std::vector<int>{1});
  NextItem<Iter<int>> n = next(s);
  ASSERT_TRUE(n.poll(cx).is_ready());
  EXPECT_THROW((void)n.poll(cx), FuturePolledAfterCompletion);
}

TEST(StreamTest, ForEachRunsTheBodyPerItemAndEndsWithTheStream) {
  CountingWaker task;
  Context cx = Context::from_waker(task.waker());
  auto [tx, rx] = mpsc::unbounded<int>();
  std::vector<int> seen;
  auto loop = for_each(std::move(rx), [&seen](int v) { seen.push_back(v); });
  static_assert(Future<decltype(loop)>);
  ASSERT_TRUE(tx.unbounded_send(1).is_ok());
  ASSERT_TRUE(tx.unbounded_send(2).is_ok());
  EXPECT_TRUE(loop.poll(cx).is_pending());  // both taken in one poll, then waits
  EXPECT_EQ(seen, (std::vector<int>{1, 2}));
  ASSERT_TRUE(tx.unbounded_send(3).is_ok());
  EXPECT_EQ(task.woken(), 1);
  EXPECT_TRUE(loop.poll(cx).is_pending());
  { auto gone = std::move(tx); }  // the last sender: the stream ends
  EXPECT_EQ(task.woken(), 2);
  EXPECT_TRUE(loop.poll(cx).is_ready());
  EXPECT_EQ(seen, (std::vector<int>{1, 2, 3}));
  EXPECT_THROW((void)loop.poll(cx), FuturePolledAfterCompletion);
}

TEST(StreamTest, ForEachBodyThatThrowsLeavesPollAndTheLoopCanGoOn) {
  CountingWaker task;
  Context cx = Context::from_waker(task.waker());
  std::vector<int> seen;
  auto loop = for_each(iter(std::vector<int>{1, 2, 3}), [&seen](int v) {
    if (v == 2) throw std::runtime_error("two");
    seen.push_back(v);
  });
  EXPECT_THROW((void)loop.poll(cx), std::runtime_error);
  EXPECT_TRUE(loop.poll(cx).is_ready());
  EXPECT_EQ(seen, (std::vector<int>{1, 3}));  // item 2 was consumed by the throw
}

}  // namespace
}  // namespace pollwake
