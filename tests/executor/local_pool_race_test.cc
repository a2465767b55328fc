// tests/executor/local_pool_race_test.cc: the wake path of LocalPool against
// a future that synchronizes on nothing but the wake itself.
//
// pollwake's own futures take a lock (or do an acquire read-modify-write) on
// every poll, so they would hide a wake path that forgets to synchronize with
// the poll it schedules. A user future need not: FlagFuture below stores its
// waker once and from then on only reads an atomic flag. It is correct by the
// waker contract (every wake is followed by a poll that sees what the waker
// wrote before waking), and it is exposed when a wake of an already queued
// task is coalesced without a read-modify-write: the waker's store of the
// flag and the pool's clearing of "scheduled" then form the store-buffering
// pattern, the poll reads the old flag, and the task sleeps for good.
//
// The storm: a second thread hands the flag to the task many times (set,
// then wake_by_ref); the task consumes it and wakes itself, so that the next
// hand-off usually lands while the task is still queued (the coalesced
// wake). Each hand-off is waited for with a deadline; a missed one is
// reported with its number, the task is rescued (a second wake) and the test
// FAILS. A watchdog backs this up, so the test never hangs.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <optional>
#include <thread>

#include <gtest/gtest.h>

#include "executor/local_pool.h"
#include "poll/context.h"
#include "poll/poll.h"
#include "poll/waker.h"
#include "tests/support/deadline.h"
#include "tests/support/sanitizer_scale.h"
#include "tests/support/watchdog.h"

namespace pollwake {
namespace {

using testing::kDeadline;
using testing::kScaleDivisor;
using testing::Watchdog;

struct Handoff {
  std::atomic<bool> flag{false};     // set by the storm, consumed by the task
  std::atomic<bool> stop{false};     // the storm is over: finish
  std::atomic<bool> waker_ready{false};
  std::optional<Waker> waker;        // written once by the task's first poll
  std::atomic<long> consumed{0};
};

constexpr int kSweep = 64;

// Stores its waker at the first poll, then reads only atomics: no lock, no
// read-modify-write on anything the waker writes, nothing that would
// synchronize with the waker by itself.
class FlagFuture {
 public:
  using Output = Unit;
  explicit FlagFuture(Handoff* h) : h_(h) {}

  Poll<Unit> poll(Context& cx) {
    if (!stored_) {
      h_->waker.emplace(cx.waker());
      stored_ = true;
      // ORDERING: release, publishes `waker` to the storm's acquire load.
      h_->waker_ready.store(true, std::memory_order_release);
    }
    // ORDERING: acquire, pairs with the storm's release stores. What makes
    // this read see the latest store is the executor's promise (a wake
    // happens before the poll it causes), not this acquire.
    if (h_->stop.load(std::memory_order_acquire)) return Ready();
    if (h_->flag.load(std::memory_order_acquire)) {
      // ORDERING: release, the storm's acquire load of the flag sees the
      // count before it hands off again.
      long n = h_->consumed.fetch_add(1, std::memory_order_relaxed);
      h_->flag.store(false, std::memory_order_release);
      cx.waker().wake_by_ref();  // queued again: the next hand-off may coalesce
      // Linger a little, a different time at each hand-off (a sweep over
      // 0..kSweep spins), so that over the storm the next hand-off lands at
      // every offset from this task's next poll.
      // (The relaxed loads keep the compiler from deleting the loop.)
      for (long i = 0, d = (n * 37) % kSweep; i < d; ++i) {
        if (h_->stop.load(std::memory_order_relaxed)) break;
      }
    }
    return Pending;
  }

 private:
  Handoff* h_;
  bool stored_ = false;
};

// How long one hand-off may take before it counts as lost. A hand-off takes
// microseconds; only a lost wake (or a machine stalled for this long) misses.
constexpr std::chrono::seconds kHandoffDeadline{10};
// The most time the storm may take (it stops early when this runs out).
constexpr std::chrono::seconds kStormBudget{40};

TEST(LocalPoolRaceTest, CoalescedWakeIsSeenByTheNextPoll) {
  // Before the wake path did a read-modify-write on every wake, runs on two
  // cores lost a hand-off after 0.3 to 1.7 million hand-offs in about half
  // of the runs (see the commit that fixed it). A hand-off takes a few
  // microseconds on a quiet machine.
  const long kHandoffs = 2'000'000 / (kScaleDivisor * kScaleDivisor);
  Handoff h;
  LocalPool pool;
  pool.spawner().spawn_local(FlagFuture(&h));

  long lost_at = -1;
  auto rescue = [&h] {
    h.stop.store(true, std::memory_order_release);
    if (h.waker_ready.load(std::memory_order_acquire)) h.waker->wake_by_ref();
  };
  std::thread storm([&] {
    auto deadline = std::chrono::steady_clock::now() + kDeadline;
    while (!h.waker_ready.load(std::memory_order_acquire)) {
      if (std::chrono::steady_clock::now() > deadline) return;  // the watchdog reports
      std::this_thread::yield();
    }
    auto budget_end = std::chrono::steady_clock::now() + kStormBudget;
    for (long i = 0; i < kHandoffs; ++i) {
      // Bounded in time as well: on a loaded machine fewer hand-offs run.
      if ((i & 1023) == 0 && std::chrono::steady_clock::now() > budget_end) break;
      h.flag.store(true, std::memory_order_release);
      h.waker->wake_by_ref();
      auto give_up = std::chrono::steady_clock::now() + kHandoffDeadline;
      int spins = 0;
      while (h.flag.load(std::memory_order_acquire)) {
        if (++spins % 1024 == 0 && std::chrono::steady_clock::now() > give_up) {
          lost_at = i;
          std::fprintf(stderr, "hand-off %ld of %ld lost: the task sleeps with the flag set\n",
                       i + 1, kHandoffs);
          rescue();
          return;
        }
        if (spins % 64 == 0) std::this_thread::yield();
      }
    }
    rescue();  // the normal end: stop, and wake the task to see it
  });
  // Backstop: kHandoffDeadline per hand-off is the real check; this one only
  // turns a hang of the whole test (a lost rescue) into an abort.
  Watchdog watchdog("the coalesced-wake storm", kDeadline + kStormBudget + kHandoffDeadline, rescue);
  pool.run();
  storm.join();
  watchdog.stop();
  h.waker.reset();

  EXPECT_EQ(lost_at, -1) << "a wake of a queued task was coalesced without making the next "
                            "poll see the waker's write (lost after "
                         << lost_at << " hand-offs)";
  EXPECT_FALSE(watchdog.stalled());
  std::printf("%ld hand-offs\n", h.consumed.load());
  if (lost_at == -1) {
    EXPECT_GT(h.consumed.load(), 0);
  }
}

}  // namespace
}  // namespace pollwake
