// tests/stress/atomic_waker_stress_test.cc: AtomicWaker under races.
//
// The consumer keeps THE RULE of atomic_waker.h (register, then check the
// condition again); producers on other threads make the condition true and
// wake, while a third thread calls take() concurrently. A lost wakeup leaves
// the consumer's block_on parked: the watchdog rescues it by hand after
// the deadline and the test FAILS.
#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "executor/block_on.h"
#include "gtest/gtest.h"
#include "poll/atomic_waker.h"
#include "poll/context.h"
#include "poll/poll.h"
#include "poll/ready.h"
#include "poll/waker.h"
#include "poll/waker_fn.h"
#include "tests/stress/stress_util.h"

namespace pollwake {
namespace {

using testing::Scaled;

TEST(AtomicWakerStressTest, WakeRacingRegisterAndTakeIsNeverLost) {
  testing::Watchdog dog("AtomicWaker wake vs register");
  const int rounds = Scaled(20000, 2000);
  AtomicWaker aw;
  std::atomic<int> reached{0};   // the producer's round counter (the condition)
  std::atomic<bool> stop{false};
  std::atomic<long> taken{0};
  dog.on_stall([&] { aw.wake(); });
  std::thread producer([&] {
    for (int r = 1; r <= rounds; ++r) {
      // Wait for the consumer to have finished the previous round.
      // ORDERING: acquire/release on `reached` hand the round back and forth;
      // the wake itself must not need them (AtomicWaker orders the rest).
      while (reached.load(std::memory_order_acquire) != r - 1 || stop.load()) {
        if (stop.load()) return;
        std::this_thread::yield();
      }
      reached.store(-r, std::memory_order_release);  // "round r is ready"
      aw.wake();
    }
  });
  std::thread thief([&] {
    // take() from a third thread: it may steal the waker, and must then
    // wake it (or the wake is lost); here it wakes every waker it takes.
    while (!stop.load()) {
      if (auto w = aw.take()) {
        taken.fetch_add(1);
        std::move(*w).wake();
      }
      std::this_thread::yield();
    }
  });
  for (int r = 1; r <= rounds; ++r) {
    dog.tick();
    // ORDERING: acquire, pairs with the producer's release store of -r.
    auto ready_now = [&] { return reached.load(std::memory_order_acquire) == -r; };
    block_on(poll_fn([&](Context& cx) -> Poll<Unit> {
      if (ready_now()) return Ready();
      aw.register_waker(cx.waker());
      if (ready_now()) return Ready();  // checked again, AFTER register
      return Pending;
    }));
    reached.store(r, std::memory_order_release);  // ORDERING: pairs with the producer's acquire
    if (dog.stalled()) {
      stop = true;
      producer.join();
      thief.join();
      FAIL() << "lost wakeup: the consumer stayed parked in round " << r
             << " until the watchdog woke it by hand";
    }
  }
  stop = true;
  producer.join();
  thief.join();
  EXPECT_EQ(reached.load(), rounds);
}

}  // namespace
}  // namespace pollwake
