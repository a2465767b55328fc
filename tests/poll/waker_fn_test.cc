// tests/poll/waker_fn_test.cc: waker_fn (the waker-fn crate) from
// poll/waker_fn.h.
#include "poll/waker_fn.h"

#include <atomic>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "poll/waker.h"

namespace pollwake {
namespace {

// A closure that counts its calls, copies and destructions.
struct Probe {
  std::atomic<int> calls{0};
  std::atomic<int> copies{0};
  std::atomic<int> destroyed{0};
};
struct CountingFn {
  explicit CountingFn(Probe* p) : probe(p) {}
  CountingFn(const CountingFn& o) : probe(o.probe) { probe->copies.fetch_add(1); }
  CountingFn(CountingFn&& o) noexcept : probe(std::exchange(o.probe, nullptr)) {}
  ~CountingFn() {
    if (probe != nullptr) probe->destroyed.fetch_add(1);  // moved-from ones do not count
  }
  void operator()() const { probe->calls.fetch_add(1); }
  Probe* probe;
};

// Rust asks for `Fn`, not `FnMut`: a closure callable only through a
// non-const reference would race with itself when two clones wake at once.
template <class F>
concept AcceptedByWakerFn = requires(F f) { waker_fn(std::move(f)); };
struct LikeAMutableLambda {  // what `[n = 0]() mutable { ++n; }` is
  int n = 0;
  void operator()() { ++n; }
};
struct LikeAPlainLambda {  // what `[] {}` is
  void operator()() const {}
};
static_assert(AcceptedByWakerFn<LikeAPlainLambda>);
static_assert(!AcceptedByWakerFn<LikeAMutableLambda>);
static_assert(!AcceptedByWakerFn<int>);

// [START waker_fn_calls]
TEST(WakerFnTest, CallsTheClosureOnEveryWake) {
  Probe probe;
  Waker w = waker_fn(CountingFn(&probe));
  EXPECT_EQ(probe.calls.load(), 0);  // making the waker calls nothing
  w.wake_by_ref();
  w.wake_by_ref();
  Waker c = w;
  std::move(c).wake();
  EXPECT_EQ(probe.calls.load(), 3);
}
// [END waker_fn_calls]

TEST(WakerFnTest, ClonesShareOneClosureInsteadOfCopyingIt) {
  Probe probe;
  {
    Waker w = waker_fn(CountingFn(&probe));
    std::vector<Waker> clones(8, w);
    for (const Waker& c : clones) {
      EXPECT_TRUE(c.will_wake(w));
      c.wake_by_ref();
    }
    EXPECT_EQ(probe.copies.load(), 0);
    EXPECT_EQ(probe.calls.load(), 8);
    EXPECT_EQ(probe.destroyed.load(), 0);
  }
  EXPECT_EQ(probe.destroyed.load(), 1);  // destroyed once, with the last waker
}

TEST(WakerFnTest, TheLastWakeDestroysTheClosure) {
  Probe probe;
  Waker w = waker_fn(CountingFn(&probe));
  Waker c = w;
  std::move(w).wake();
  EXPECT_EQ(probe.destroyed.load(), 0);
  std::move(c).wake();
  EXPECT_EQ(probe.calls.load(), 2);
  EXPECT_EQ(probe.destroyed.load(), 1);
}

// A closure that throws breaks the waker contract: the process stops at
// Waker's boundary with a message (poll/raw_waker.h).
TEST(WakerFnDeathTest, AClosureThatThrowsStopsTheProcess) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(waker_fn([] { throw std::runtime_error("closure"); }).wake_by_ref(),
               "RawWakerVTable::wake_by_ref threw: closure");
}

TEST(WakerFnTest, WakesFromManyThreadsAreAllDelivered) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 1000;
  Probe probe;
  {
    Waker w = waker_fn(CountingFn(&probe));
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([mine = Waker(w)] {
        for (int i = 0; i < kRounds; ++i) Waker(mine).wake();
      });
    }
    for (auto& th : threads) th.join();
  }
  EXPECT_EQ(probe.calls.load(), kThreads * kRounds);
  EXPECT_EQ(probe.destroyed.load(), 1);
}

}  // namespace
}  // namespace pollwake
