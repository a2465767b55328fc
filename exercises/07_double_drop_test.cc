// exercises/07_double_drop_test.cc: DoubleDropExerciseTest.
#include "exercise/07_double_drop.h"

#include <gtest/gtest.h>

#include "poll/box_future.h"
#include "poll/future.h"

namespace exercises {
namespace {

static_assert(pollwake::Future<TicketFuture>);

TEST(DoubleDropExerciseTest, EachTicketIsReleasedOnce) {
  Ledger ledger;
  TaskProbe task;
  Context cx = Context::from_waker(task.waker());
  {
    Ticket t(ledger, 1);
    auto boxed = pollwake::boxed_local(TicketFuture(std::move(t)));  // moved twice
    Poll<Ticket> p = boxed.poll(cx);
    ASSERT_TRUE(p.is_ready());
    EXPECT_EQ(p.value().id(), 1);
    EXPECT_EQ(ledger.released[1], 0) << "released while its owner still holds it";
  }
  EXPECT_EQ(ledger.released[1], 1) << "double drop: ticket 1 was released "
                                   << ledger.released[1] << " times; a moved-from Ticket "
                                   << "must release nothing";
}

}  // namespace
}  // namespace exercises
