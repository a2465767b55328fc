// tests/future/atomic_waker_test.cc: AtomicWaker, its three-state protocol,
// and the register/wake race under stress.
#include "poll/atomic_waker.h"

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <utility>

#include "gtest/gtest.h"
#include "poll/arc.h"
#include "poll/raw_waker.h"
#include "poll/wake.h"
#include "poll/waker_fn.h"
#include "tests/future/test_util.h"

namespace pollwake {
namespace {

using testing::CountingWaker;
using testing::kDeadline;
using testing::Parker;

TEST(AtomicWakerTest, WakeWithNothingRegisteredDoesNothing) {
  AtomicWaker aw;
  aw.wake();
  EXPECT_FALSE(aw.take().has_value());
}

TEST(AtomicWakerTest, RegisterThenWakeWakesOnceAndEmptiesTheSlot) {
  CountingWaker cw;
  AtomicWaker aw;
  aw.register_waker(cw.waker());
  EXPECT_EQ(cw.clones(), 1);
  aw.wake();
  EXPECT_EQ(cw.wakes(), 1);
  aw.wake();  // empty now
  EXPECT_EQ(cw.woken(), 1);
  EXPECT_EQ(cw.live(), 0);
}

TEST(AtomicWakerTest, TakeHandsBackTheRegisteredWaker) {
  CountingWaker cw;
  AtomicWaker aw;
  aw.register_waker(cw.waker());
  std::optional<Waker> w = aw.take();
  ASSERT_TRUE(w.has_value());
  EXPECT_TRUE(w->will_wake(cw.waker()));
  EXPECT_FALSE(aw.take().has_value());
  EXPECT_EQ(cw.woken(), 0);
}

TEST(AtomicWakerTest, RegisteringTheSameTaskAgainDoesNotClone) {
  CountingWaker cw;
  AtomicWaker aw;
  for (int i = 0; i < 5; ++i) aw.register_waker(cw.waker());
  EXPECT_EQ(cw.clones(), 1);
  EXPECT_EQ(cw.drops(), 0);
}

TEST(AtomicWakerTest, ANewWakerReplacesTheOldOne) {
  CountingWaker first, second;
  AtomicWaker aw;
  aw.register_waker(first.waker());
  aw.register_waker(second.waker());
  EXPECT_EQ(first.live(), 0);  // dropped on replacement
  aw.wake();
  EXPECT_EQ(first.woken(), 0);
  EXPECT_EQ(second.wakes(), 1);
}

TEST(AtomicWakerTest, DestroyingItDropsTheStoredWaker) {
  CountingWaker cw;
  {
    AtomicWaker aw;
    aw.register_waker(cw.waker());
  }
  EXPECT_EQ(cw.live(), 0);
  EXPECT_EQ(cw.woken(), 0);
}

// A waker whose clone calls aw.wake(): the wake lands exactly while
// register_waker owns the slot (state REGISTERING), deterministically.
struct ReentrantTarget {
  AtomicWaker* aw;
  std::atomic<int> clones{0}, wakes{0}, drops{0};
};
RawWaker reentrant_clone(const void* p);
void reentrant_wake(const void* p) {
  ++static_cast<ReentrantTarget*>(const_cast<void*>(p))->wakes;
}
void reentrant_wake_by_ref(const void* p) { reentrant_wake(p); }
void reentrant_drop(const void* p) {
  ++static_cast<ReentrantTarget*>(const_cast<void*>(p))->drops;
}
const RawWakerVTable kReentrantTable{&reentrant_clone, &reentrant_wake, &reentrant_wake_by_ref,
                                     &reentrant_drop};
RawWaker reentrant_clone(const void* p) {
  auto* t = static_cast<ReentrantTarget*>(const_cast<void*>(p));
  ++t->clones;
  t->aw->wake();  // the slot is busy: this only sets the WAKING bit
  return RawWaker{p, &kReentrantTable};
}

TEST(AtomicWakerTest, WakeDuringRegisterIsDeliveredToTheNewWaker) {
  AtomicWaker aw;
  ReentrantTarget target{&aw};
  Waker w = Waker::from_raw(RawWaker{&target, &kReentrantTable});
  aw.register_waker(w);
  EXPECT_EQ(target.clones, 1);
  EXPECT_EQ(target.wakes, 1);  // register_waker woke the clone it had stored
  EXPECT_FALSE(aw.take().has_value());

  // The protocol is back in WAITING: an ordinary register/wake still works.
  CountingWaker cw;
  aw.register_waker(cw.waker());
  aw.wake();
  EXPECT_EQ(cw.wakes(), 1);
  std::move(w).into_raw();  // the root is not counted
  EXPECT_EQ(target.clones, target.wakes + target.drops);
}

constexpr int kRaceIterations = 100000;  // ~7 s under ThreadSanitizer here

// The race itself. Iteration i: the producer publishes `produced = i` and
// calls wake(); the consumer follows THE RULE (check, register, check again,
// then park). The two threads hand off every iteration, so wake() keeps
// landing before, during and after register_waker. A lost wakeup would park
// the consumer forever; the park is bounded and then the test FAILs.
// Each turn the consumer registers one waker and then replaces it with the
// other (a task polled with a new waker), so the slot's replace path races
// too: if the replacement were lost, the wake would go to the wrong parker.
TEST(AtomicWakerTest, RegisterWakeRaceNeverLosesAWakeup) {
  AtomicWaker aw;
  std::atomic<int> produced{0};
  std::atomic<int> consumed{0};
  std::atomic<bool> stop{false};
  Arc<Parker> parkers[2] = {Arc<Parker>::make(), Arc<Parker>::make()};
  Waker wakers[2] = {waker_from(parkers[0]), waker_from(parkers[1])};

  std::thread producer([&] {
    for (int i = 1; i <= kRaceIterations; ++i) {
      // ORDERING (test): acquire pairs with the consumer's release store.
      while (consumed.load(std::memory_order_acquire) < i - 1) {
        if (stop.load()) return;
        std::this_thread::yield();
      }
      // ORDERING (test): release, so the consumer that sees i after being
      // woken also sees everything before it; wake() comes after the store.
      produced.store(i, std::memory_order_release);
      aw.wake();
    }
  });

  int parks = 0;
  for (int i = 1; i <= kRaceIterations; ++i) {
    const int k = i % 2;
    // ORDERING (test): acquire pairs with the producer's release of i.
    while (produced.load(std::memory_order_acquire) < i) {
      // As a task polled with a new waker: only the latest one counts.
      aw.register_waker(wakers[1 - k]);
      aw.register_waker(wakers[k]);
      if (produced.load(std::memory_order_acquire) >= i) break;  // THE RULE
      ++parks;
      if (!parkers[k]->wait_for(kDeadline)) {
        stop = true;
        producer.join();
        FAIL() << "lost wakeup at iteration " << i << " (produced "
               << produced.load() << ")";
      }
    }
    consumed.store(i, std::memory_order_release);  // ORDERING (test): lets i+1 start
  }
  producer.join();
  // Every park was ended by a wake of the waker registered for it.
  EXPECT_GE(parkers[0]->wakes + parkers[1]->wakes, parks);
  RecordProperty("parks", parks);
}

// Several threads wake at once while one consumer registers: each round
// needs every waker thread's flag, and none may be lost.
TEST(AtomicWakerTest, ConcurrentWakersAndOneRegistrarLoseNothing) {
  constexpr int kWakers = 3;
  constexpr int kRounds = kRaceIterations / 10;
  AtomicWaker aw;
  std::atomic<int> done_in_round[kWakers];
  for (auto& d : done_in_round) d = 0;
  std::atomic<int> round{0};
  std::atomic<bool> stop{false};
  Arc<Parker> parker = Arc<Parker>::make();
  Waker w = waker_from(parker);

  std::vector<std::thread> threads;
  for (int t = 0; t < kWakers; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 1; r <= kRounds; ++r) {
        // ORDERING (test): acquire pairs with the registrar's release of r.
        while (round.load(std::memory_order_acquire) < r) {
          if (stop.load()) return;
          std::this_thread::yield();
        }
        // ORDERING (test): release, then wake(): the condition comes first.
        done_in_round[t].store(r, std::memory_order_release);
        aw.wake();
      }
    });
  }
  auto all_done = [&](int r) {
    for (auto& d : done_in_round) {
      // ORDERING (test): acquire pairs with each waker thread's release.
      if (d.load(std::memory_order_acquire) < r) return false;
    }
    return true;
  };
  for (int r = 1; r <= kRounds; ++r) {
    round.store(r, std::memory_order_release);  // ORDERING (test): starts round r
    while (!all_done(r)) {
      aw.register_waker(w);
      if (all_done(r)) break;  // THE RULE
      if (!parker->wait_for(kDeadline)) {
        stop = true;
        for (auto& t : threads) t.join();
        FAIL() << "lost wakeup in round " << r;
      }
    }
  }
  for (auto& t : threads) t.join();
}

// A registered waker that throws when woken: the process stops at the
// waker boundary with a message (poll/raw_waker.h); AtomicWaker has no
// policy of its own.
TEST(AtomicWakerDeathTest, AWakerThatThrowsStopsTheProcessAtWake) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        AtomicWaker aw;
        Waker bad = waker_fn([] { throw std::runtime_error("a waker that throws"); });
        aw.register_waker(bad);
        aw.wake();
      },
      "RawWakerVTable::wake threw: a waker that throws");
}

}  // namespace
}  // namespace pollwake
