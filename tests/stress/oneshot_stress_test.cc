// tests/stress/oneshot_stress_test.cc: oneshot channels under races.
//
// Each round races a send (or a drop of the sender) on one thread against
// the receiver's poll in block_on (or a drop of the receiver) on another.
// Messages are testing::Tracked, so every value sent, refused or left in a
// dropped channel must be destroyed exactly once (Tracked::live() == 0). A
// lost wakeup leaves block_on parked: the watchdog aborts with a message.
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "executor/block_on.h"
#include "gtest/gtest.h"
#include "poll/oneshot.h"
#include "tests/stress/stress_util.h"
#include "tests/support/drop_counter.h"

namespace pollwake {
namespace {

using testing::Scaled;
using testing::Tracked;

TEST(OneshotStressTest, SendRacingReceiverPollDeliversOnce) {
  testing::Watchdog dog("oneshot send vs poll");
  const int rounds = Scaled(3000, 300);
  for (int r = 0; r < rounds; ++r) {
    dog.tick("round " + std::to_string(r));
    auto [tx, rx] = oneshot::channel<Tracked>();
    std::thread sender([tx = std::move(tx), r]() mutable {
      if (r % 3 == 0) std::this_thread::yield();
      Result<Unit, Tracked> sent = tx.send(Tracked(r));
      EXPECT_TRUE(sent.is_ok()) << "round " << r << ": send refused with a live receiver";
    });
    Result<Tracked, oneshot::Canceled> got = block_on(std::move(rx));
    sender.join();
    ASSERT_TRUE(got.is_ok()) << "round " << r;
    EXPECT_EQ(got.value().value(), r);
  }
  EXPECT_EQ(Tracked::live(), 0) << "values leaked or destroyed twice";
}

TEST(OneshotStressTest, SenderDropRacingReceiverPollCancels) {
  testing::Watchdog dog("oneshot sender drop vs poll");
  const int rounds = Scaled(3000, 300);
  for (int r = 0; r < rounds; ++r) {
    dog.tick("round " + std::to_string(r));
    auto [tx, rx] = oneshot::channel<Tracked>();
    std::thread dropper([tx = std::move(tx)]() mutable {
      oneshot::Sender<Tracked> gone(std::move(tx));  // dropped at the end of scope
    });
    Result<Tracked, oneshot::Canceled> got = block_on(std::move(rx));
    dropper.join();
    EXPECT_TRUE(got.is_err()) << "round " << r << ": a value arrived from a dropped sender";
  }
  EXPECT_EQ(Tracked::live(), 0);
}

TEST(OneshotStressTest, ReceiverDropRacingSendDestroysValueOnce) {
  testing::Watchdog dog("oneshot receiver drop vs send");
  const int rounds = Scaled(5000, 500);
  int refused = 0;
  for (int r = 0; r < rounds; ++r) {
    dog.tick("round " + std::to_string(r));
    auto [tx, rx] = oneshot::channel<Tracked>();
    std::thread dropper([rx = std::move(rx)]() mutable {
      oneshot::Receiver<Tracked> gone(std::move(rx));
    });
    Result<Unit, Tracked> sent = tx.send(Tracked(r));
    if (sent.is_err()) {
      ++refused;
      EXPECT_EQ(sent.error().value(), r) << "the refused value did not come back intact";
    }
    dropper.join();
  }
  EXPECT_EQ(Tracked::live(), 0) << "a value was leaked or destroyed twice";
  RecordProperty("refused_sends", refused);
}

}  // namespace
}  // namespace pollwake
