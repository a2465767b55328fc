// tests/thread_pool/thread_pool_parallel_test.cc: ThreadPool runs ready tasks
// in parallel when it has idle workers.
//
// Each case makes two tasks that block their worker until the other one has
// started (a bounded spin: a task that gives up reports it, so the test
// fails and never hangs). They can both finish only if two workers run them
// at the same time, so the cases fail when an idle worker sleeps while a
// task waits in a queue, or when a task that is queued behind a running one
// cannot be taken by another worker.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "executor/block_on.h"
#include "executor/thread_pool.h"
#include "gtest/gtest.h"
#include "poll/future.h"
#include "poll/ready.h"
#include "tests/support/deadline.h"

namespace pollwake {
namespace {

// How long one task waits for its partner to start. Far longer than a
// worker needs to wake (microseconds to milliseconds), far shorter than the
// test's timeout, so a miss costs a little time and is reported.
constexpr std::chrono::seconds kPartnerDeadline{2};

struct Pair {
  std::atomic<bool> started[2] = {false, false};
};

// Starts, then blocks its worker until the partner has started too; true
// if it did before the deadline.
auto meet(Pair* pair, int me) {
  return poll_fn([pair, me](Context&) -> Poll<bool> {
    pair->started[me].store(true);
    auto give_up = std::chrono::steady_clock::now() + kPartnerDeadline;
    while (!pair->started[1 - me].load()) {
      if (std::chrono::steady_clock::now() > give_up) return Ready(false);
      std::this_thread::yield();
    }
    return Ready(true);
  });
}

// Two tasks spawned from outside the pool, each waiting for the other to
// start, both run: an idle worker does not sleep while one of them waits in
// a queue. Repeated, because the window is a few instructions wide (a worker
// that is searching when the first task arrives takes it, and nobody else
// was woken for the second).
TEST(ThreadPoolParallelTest, TwoTasksThatWaitForEachOtherBothRun) {
  constexpr int kRounds = 2000;
  ThreadPool pool = ThreadPool::builder().pool_size(2).create();
  int missed = 0;
  for (int round = 0; round < kRounds; ++round) {
    Pair pair;
    auto a = pool.spawn_with_handle(meet(&pair, 0));
    auto b = pool.spawn_with_handle(meet(&pair, 1));
    bool a_met = block_on(std::move(a));
    bool b_met = block_on(std::move(b));
    if (!a_met || !b_met) ++missed;
    // Start the next round after a pause that varies from none to a few
    // hundred microseconds, so that the rounds meet the workers in every
    // phase of going idle (running, searching, falling asleep, asleep).
    if (round % 8 != 0) std::this_thread::sleep_for(std::chrono::microseconds(37 * (round % 8)));
  }
  EXPECT_EQ(missed, 0) << missed << " of " << kRounds
                       << " rounds: a task waited in a queue while a worker was idle";
}

// A task spawns two children (onto its own worker's queue) that each wait
// for the other to start: another worker must take one of them while the
// first runs, so fan-out inside a task uses more than one core.
TEST(ThreadPoolParallelTest, ChildrenOfOneTaskRunInParallel) {
  constexpr int kRounds = 20;
  ThreadPool pool = ThreadPool::builder().pool_size(2).create();
  int missed = 0;
  for (int round = 0; round < kRounds; ++round) {
    Pair pair;
    std::atomic<int> met{0};
    std::atomic<int> done{0};
    auto child = [&](int me) {
      return poll_fn([&met, &done, inner = meet(&pair, me)](Context& cx) mutable -> Poll<Unit> {
        Poll<bool> p = inner.poll(cx);
        if (p.is_ready() && std::move(p).value()) met.fetch_add(1);
        done.fetch_add(1);
        return Ready();
      });
    };
    auto parent = pool.spawn_with_handle(poll_fn([&](Context&) -> Poll<Unit> {
      pool.spawn_ok(child(0));
      pool.spawn_ok(child(1));
      return Ready();
    }));
    block_on(std::move(parent));
    ASSERT_TRUE(testing::eventually([&] { return done.load() == 2; }))
        << "the children did not finish before the deadline";
    if (met.load() != 2) ++missed;
  }
  EXPECT_EQ(missed, 0) << missed << " of " << kRounds
                       << " rounds: the two children of one task did not overlap";
}

}  // namespace
}  // namespace pollwake
