// tests/stress/mpsc_stress_test.cc: mpsc channels under races.
//
// Several sender threads push through a small bounded channel (so senders
// wait for room and are woken by the receiver) while the receiver drains it
// with block_on; then the receiver is dropped mid-stream while senders are
// still waiting. Messages are testing::Tracked: every one is destroyed
// exactly once. A lost wakeup (a sender or the receiver parked forever)
// makes the watchdog abort with a message.
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "executor/block_on.h"
#include "gtest/gtest.h"
#include "poll/mpsc.h"
#include "tests/stress/stress_util.h"
#include "tests/support/drop_counter.h"

namespace pollwake {
namespace {

using testing::Scaled;
using testing::Tracked;

constexpr int kSenders = 3;

TEST(MpscStressTest, SeveralSendersThroughBoundedChannelArriveInOrder) {
  testing::Watchdog dog("mpsc bounded senders");
  const int iterations = Scaled(10, 2);
  const int per_sender = Scaled(1000, 200);
  for (int it = 0; it < iterations; ++it) {
    dog.tick("iteration " + std::to_string(it));
    auto [tx, rx] = mpsc::channel<Tracked>(2);
    std::vector<std::thread> senders;
    for (int s = 0; s < kSenders; ++s) {
      senders.emplace_back([tx = tx, s, per_sender]() mutable {
        for (int i = 0; i < per_sender; ++i) {
          auto sent = block_on(tx.send(Tracked(s * 1000000 + i)));
          if (sent.is_err()) {
            ADD_FAILURE() << "sender " << s << ": send failed with a live receiver";
            return;
          }
        }
      });
    }
    { auto gone = std::move(tx); }  // only the sender threads hold senders now
    std::vector<int> next(kSenders, 0);
    long received = 0;
    for (;;) {
      std::optional<Tracked> m = block_on(rx.next());
      if (!m) break;  // every sender gone and the queue empty
      int s = m->value() / 1000000;
      int i = m->value() % 1000000;
      ASSERT_EQ(i, next[s]) << "sender " << s << "'s messages arrived out of order";
      ++next[s];
      ++received;
      if (received % 500 == 0) dog.tick();
    }
    for (auto& t : senders) t.join();
    EXPECT_EQ(received, static_cast<long>(kSenders) * per_sender);
  }
  EXPECT_EQ(Tracked::live(), 0) << "messages leaked or destroyed twice";
}

TEST(MpscStressTest, ReceiverDroppedWhileSendersWaitForRoom) {
  testing::Watchdog dog("mpsc receiver drop");
  const int iterations = Scaled(300, 30);
  for (int it = 0; it < iterations; ++it) {
    dog.tick("iteration " + std::to_string(it));
    auto [tx, rx] = mpsc::channel<Tracked>(1);
    std::atomic<int> refused{0};
    std::vector<std::thread> senders;
    for (int s = 0; s < kSenders; ++s) {
      senders.emplace_back([tx = tx, &refused]() mutable {
        for (int i = 0; i < 50; ++i) {
          auto sent = block_on(tx.send(Tracked(i)));
          if (sent.is_err()) {
            refused.fetch_add(1);
            return;  // the receiver is gone: the value came back
          }
        }
      });
    }
    { auto gone = std::move(tx); }
    for (int k = 0; k < it % 7; ++k) {
      if (!block_on(rx.next())) break;
    }
    { auto gone = std::move(rx); }  // drops the queued messages; wakes the senders
    for (auto& t : senders) t.join();
  }
  EXPECT_EQ(Tracked::live(), 0) << "messages leaked or destroyed twice";
}

}  // namespace
}  // namespace pollwake
