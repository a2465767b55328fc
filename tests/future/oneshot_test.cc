// tests/future/oneshot_test.cc: oneshot::channel, on one thread and across
// threads.
#include "poll/oneshot.h"

#include <atomic>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include "gtest/gtest.h"
#include "poll/waker_fn.h"
#include "tests/future/test_util.h"

namespace pollwake {
namespace {

using oneshot::Canceled;
using testing::wait_output;
using testing::CountingWaker;
using testing::poll_once;
using testing::Tracked;

TEST(OneshotTest, SendThenReceive) {
  CountingWaker cw;
  auto [tx, rx] = oneshot::channel<std::string>();
  EXPECT_TRUE(tx.send("hi").is_ok());
  auto p = poll_once(rx, cw.waker());
  ASSERT_TRUE(p.is_ready());
  EXPECT_EQ(p.value().value(), "hi");
  EXPECT_EQ(cw.woken(), 0);
}

TEST(OneshotTest, ReceiverIsPendingUntilTheSendWakesIt) {
  CountingWaker cw;
  auto [tx, rx] = oneshot::channel<int>();
  EXPECT_TRUE(poll_once(rx, cw.waker()).is_pending());
  EXPECT_TRUE(poll_once(rx, cw.waker()).is_pending());
  EXPECT_EQ(cw.clones(), 1);  // the second poll reused the stored clone
  EXPECT_TRUE(tx.send(3).is_ok());
  EXPECT_EQ(cw.wakes(), 1);
  auto p = poll_once(rx, cw.waker());
  ASSERT_TRUE(p.is_ready());
  EXPECT_EQ(p.value().value(), 3);
  EXPECT_EQ(cw.live(), 0);
}

TEST(OneshotTest, OnlyTheLatestWakerIsWoken) {
  CountingWaker first, second;
  auto [tx, rx] = oneshot::channel<int>();
  EXPECT_TRUE(poll_once(rx, first.waker()).is_pending());
  EXPECT_TRUE(poll_once(rx, second.waker()).is_pending());
  EXPECT_EQ(first.live(), 0);  // replaced, dropped
  EXPECT_TRUE(tx.send(1).is_ok());
  EXPECT_EQ(first.woken(), 0);
  EXPECT_EQ(second.wakes(), 1);
}

TEST(OneshotTest, DroppedSenderCancelsTheReceiver) {
  CountingWaker cw;
  auto [tx, rx] = oneshot::channel<int>();
  EXPECT_TRUE(poll_once(rx, cw.waker()).is_pending());
  { auto dropped = std::move(tx); }
  EXPECT_EQ(cw.wakes(), 1);
  auto p = poll_once(rx, cw.waker());
  ASSERT_TRUE(p.is_ready());
  ASSERT_TRUE(p.value().is_err());
  EXPECT_EQ(p.value().error(), Canceled{});
}

TEST(OneshotTest, SendToADroppedReceiverGivesTheValueBack) {
  std::atomic<int> drops{0};
  auto [tx, rx] = oneshot::channel<Tracked>();
  EXPECT_FALSE(tx.is_canceled());
  { auto dropped = std::move(rx); }
  EXPECT_TRUE(tx.is_canceled());
  auto r = tx.send(Tracked(8, &drops));
  ASSERT_TRUE(r.is_err());
  EXPECT_EQ(r.error().value(), 8);
  EXPECT_EQ(drops, 0);  // handed back, not destroyed
}

TEST(OneshotTest, SendAfterCloseGivesTheValueBack) {
  auto [tx, rx] = oneshot::channel<int>();
  rx.close();
  EXPECT_TRUE(tx.is_canceled());
  auto r = tx.send(4);
  ASSERT_TRUE(r.is_err());
  EXPECT_EQ(r.error(), 4);
  CountingWaker cw;
  auto p = poll_once(rx, cw.waker());
  ASSERT_TRUE(p.is_ready());
  EXPECT_TRUE(p.value().is_err());
}

TEST(OneshotTest, ValueSentBeforeCloseCanStillBeReceived) {
  auto [tx, rx] = oneshot::channel<int>();
  EXPECT_TRUE(tx.send(6).is_ok());
  rx.close();
  auto r = rx.try_recv();
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r.value(), std::optional<int>(6));
}

TEST(OneshotTest, SecondSendOnASpentSenderGivesTheValueBack) {
  auto [tx, rx] = oneshot::channel<int>();
  EXPECT_TRUE(tx.send(1).is_ok());
  EXPECT_TRUE(tx.is_canceled());  // spent
  auto r = tx.send(2);
  ASSERT_TRUE(r.is_err());
  EXPECT_EQ(r.error(), 2);
  EXPECT_EQ(rx.try_recv().value(), std::optional<int>(1));
}

TEST(OneshotTest, TryRecvReportsEachState) {
  auto [tx, rx] = oneshot::channel<int>();
  auto empty = rx.try_recv();
  ASSERT_TRUE(empty.is_ok());
  EXPECT_EQ(empty.value(), std::nullopt);
  EXPECT_TRUE(tx.send(5).is_ok());
  EXPECT_EQ(rx.try_recv().value(), std::optional<int>(5));
  EXPECT_TRUE(rx.try_recv().is_err());  // already received
  CountingWaker cw;
  EXPECT_THROW((void)poll_once(rx, cw.waker()), FuturePolledAfterCompletion);

  auto [tx2, rx2] = oneshot::channel<int>();
  { auto dropped = std::move(tx2); }
  EXPECT_TRUE(rx2.try_recv().is_err());
}

TEST(OneshotTest, PollCanceledWakesWhenTheReceiverIsDropped) {
  CountingWaker cw;
  auto [tx, rx] = oneshot::channel<int>();
  Context cx = Context::from_waker(cw.waker());
  EXPECT_TRUE(tx.poll_canceled(cx).is_pending());
  { auto dropped = std::move(rx); }
  EXPECT_EQ(cw.wakes(), 1);
  EXPECT_TRUE(tx.poll_canceled(cx).is_ready());
}

TEST(OneshotTest, CancellationCompletesWhenTheReceiverCloses) {
  CountingWaker cw;
  auto [tx, rx] = oneshot::channel<int>();
  auto c = tx.cancellation();
  EXPECT_TRUE(poll_once(c, cw.waker()).is_pending());
  rx.close();
  EXPECT_EQ(cw.wakes(), 1);
  EXPECT_TRUE(poll_once(c, cw.waker()).is_ready());
  EXPECT_THROW((void)poll_once(c, cw.waker()), FuturePolledAfterCompletion);
}

TEST(OneshotTest, DroppedReceiverDestroysAnUnreceivedValue) {
  std::atomic<int> drops{0};
  auto [tx, rx] = oneshot::channel<Tracked>();
  EXPECT_TRUE(tx.send(Tracked(1, &drops)).is_ok());
  EXPECT_EQ(drops, 0);
  { auto dropped = std::move(rx); }
  EXPECT_EQ(drops, 1);
}

TEST(OneshotTest, PolledAfterCompletionThrowsAndMovedFromReceiverToo) {
  CountingWaker cw;
  auto [tx, rx] = oneshot::channel<int>();
  EXPECT_TRUE(tx.send(1).is_ok());
  ASSERT_TRUE(poll_once(rx, cw.waker()).is_ready());
  EXPECT_THROW((void)poll_once(rx, cw.waker()), FuturePolledAfterCompletion);

  auto [tx2, rx2] = oneshot::channel<int>();
  auto moved = std::move(rx2);
  EXPECT_THROW((void)poll_once(rx2, cw.waker()), FuturePolledAfterCompletion);
}

TEST(OneshotTest, ReceiverDroppedWhilePendingReleasesItsWaker) {
  CountingWaker cw;
  auto [tx, rx] = oneshot::channel<int>();
  {
    auto r = std::move(rx);
    EXPECT_TRUE(poll_once(r, cw.waker()).is_pending());
  }
  EXPECT_EQ(cw.clones(), 1);
  EXPECT_EQ(cw.live(), 0);  // released with the receiver
  { auto dropped = std::move(tx); }
  EXPECT_EQ(cw.woken(), 0);        // so the sender's drop wakes nobody
}

// Cross-thread: the value crosses threads and the wake is never lost.
TEST(OneshotTest, CrossThreadSendWakesTheReceiver) {
  constexpr int kIterations = 2000;
  for (int i = 0; i < kIterations; ++i) {
    auto [tx, rx] = oneshot::channel<int>();
    std::thread sender([&t = tx, i] { EXPECT_TRUE(t.send(i).is_ok()); });
    auto out = wait_output(rx);
    sender.join();
    ASSERT_TRUE(out.has_value()) << "lost wakeup at iteration " << i;
    ASSERT_TRUE(out->is_ok());
    ASSERT_EQ(out->value(), i);
  }
}

TEST(OneshotTest, CrossThreadSenderDropCancels) {
  constexpr int kIterations = 2000;
  for (int i = 0; i < kIterations; ++i) {
    auto [tx, rx] = oneshot::channel<int>();
    std::thread dropper([t = std::move(tx)]() mutable { auto gone = std::move(t); });
    auto out = wait_output(rx);
    dropper.join();
    ASSERT_TRUE(out.has_value()) << "lost wakeup at iteration " << i;
    ASSERT_TRUE(out->is_err());
  }
}

TEST(OneshotTest, CrossThreadReceiverDropRacesWithSendAndNothingLeaks) {
  constexpr int kIterations = 2000;
  std::atomic<int> drops{0};
  for (int i = 0; i < kIterations; ++i) {
    auto [tx, rx] = oneshot::channel<Tracked>();
    std::thread dropper([r = std::move(rx)]() mutable { auto gone = std::move(r); });
    auto res = tx.send(Tracked(i, &drops));  // if handed back: dies with `res`
    dropper.join();
  }
  // Every value was destroyed exactly once: by the receiver's drop, or with
  // the error that handed it back.
  EXPECT_EQ(drops, kIterations);
}

// Rust's oneshot needs only that T can be moved; so does pollwake's: a type
// that can be move-constructed but not assigned goes through every path
// (sent and received, sent and dropped unreceived, try_recv).
struct MoveConstructOnly {
  explicit MoveConstructOnly(int v) : value(v) {}
  MoveConstructOnly(MoveConstructOnly&&) = default;
  MoveConstructOnly& operator=(MoveConstructOnly&&) = delete;
  int value;
};

TEST(OneshotTest, AValueThatCanOnlyBeMoveConstructedGoesThrough) {
  CountingWaker cw;
  {
    auto [tx, rx] = oneshot::channel<MoveConstructOnly>();
    EXPECT_TRUE(poll_once(rx, cw.waker()).is_pending());
    EXPECT_TRUE(tx.send(MoveConstructOnly(7)).is_ok());
    auto p = poll_once(rx, cw.waker());
    ASSERT_TRUE(p.is_ready());
    EXPECT_EQ(std::move(p).value().value().value, 7);
  }
  {
    auto [tx, rx] = oneshot::channel<MoveConstructOnly>();
    EXPECT_TRUE(tx.send(MoveConstructOnly(8)).is_ok());
    auto got = rx.try_recv();
    ASSERT_TRUE(got.is_ok());
    EXPECT_EQ(std::move(got).value()->value, 8);
  }
  {
    auto [tx, rx] = oneshot::channel<MoveConstructOnly>();
    EXPECT_TRUE(tx.send(MoveConstructOnly(9)).is_ok());
  }  // the receiver is dropped with the value unreceived
  EXPECT_EQ(cw.live(), 0);
}

// A wake from a noexcept destructor: dropping the Sender wakes the receiver's
// waker. A waker that throws there stops the process at the waker boundary,
// with its message, like any other throwing wake (not a bare terminate).
void DropASenderWhoseReceiverWaitsWithAThrowingWaker() {
  auto [tx, rx] = oneshot::channel<int>();
  Waker bad = waker_fn([] { throw std::runtime_error("woken from a destructor"); });
  Context cx = Context::from_waker(bad);
  (void)rx.poll(cx);
  { auto dropped = std::move(tx); }  // ~Sender (noexcept) wakes the receiver
}

TEST(OneshotDeathTest, AThrowingWakeFromTheSendersDestructorStopsWithTheMessage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(DropASenderWhoseReceiverWaitsWithAThrowingWaker(),
               "RawWakerVTable::wake threw: woken from a destructor");
}

}  // namespace
}  // namespace pollwake
