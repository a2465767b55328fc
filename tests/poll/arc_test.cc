// tests/poll/arc_test.cc: Arc<T> (Rust's std::sync::Arc) from poll/arc.h.
//
// Fixtures count constructions and destructions of the value; the concurrent
// tests are bounded in iterations and are meant to run under ThreadSanitizer
// (--config=tsan), which checks the memory orderings the header claims.
#include "poll/arc.h"

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace pollwake {
namespace {

// Counts how many values were built and destroyed.
struct Tracked {
  explicit Tracked(int v, std::atomic<int>* destroyed) : value(v), destroyed(destroyed) {}
  ~Tracked() { destroyed->fetch_add(1); }
  int value;
  std::atomic<int>* destroyed;
};

static_assert(std::is_nothrow_copy_constructible_v<Arc<int>>);
static_assert(std::is_nothrow_move_constructible_v<Arc<int>>);

TEST(ArcTest, MakeBuildsTheValueOnceWithCountOne) {
  std::atomic<int> destroyed{0};
  {
    Arc<Tracked> a = Arc<Tracked>::make(7, &destroyed);
    EXPECT_TRUE(a);
    EXPECT_EQ(a->value, 7);
    EXPECT_EQ((*a).value, 7);
    EXPECT_EQ(a.strong_count(), 1u);
  }
  EXPECT_EQ(destroyed.load(), 1);
}

TEST(ArcTest, CopyIncrementsAndTheLastDropDestroysOnce) {
  std::atomic<int> destroyed{0};
  {
    Arc<Tracked> a = Arc<Tracked>::make(1, &destroyed);
    {
      Arc<Tracked> b = a;
      EXPECT_TRUE(Arc<Tracked>::ptr_eq(a, b));
      EXPECT_EQ(a.get(), b.get());
      EXPECT_EQ(a.strong_count(), 2u);
    }
    EXPECT_EQ(a.strong_count(), 1u);
    EXPECT_EQ(destroyed.load(), 0);
  }
  EXPECT_EQ(destroyed.load(), 1);
}

TEST(ArcTest, MoveLeavesAnEmptyArcAndKeepsTheCount) {
  std::atomic<int> destroyed{0};
  {
    Arc<Tracked> a = Arc<Tracked>::make(1, &destroyed);
    Tracked* p = a.get();
    Arc<Tracked> b = std::move(a);
    EXPECT_EQ(b.get(), p);
    EXPECT_EQ(b.strong_count(), 1u);
    EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move)
  }
  EXPECT_EQ(destroyed.load(), 1);
}

TEST(ArcTest, EmptyArcOwnsNothingAndCopiesAsEmpty) {
  Arc<int> a = Arc<int>::make(3);
  Arc<int> b = std::move(a);
  // NOLINTBEGIN(bugprone-use-after-move)
  EXPECT_FALSE(a);
  EXPECT_EQ(a.get(), nullptr);
  EXPECT_EQ(a.strong_count(), 0u);
  Arc<int> copy = a;
  EXPECT_FALSE(copy);
  EXPECT_EQ(std::move(copy).into_raw(), nullptr);
  EXPECT_FALSE(Arc<int>::from_raw(nullptr));
  // NOLINTEND(bugprone-use-after-move)
  EXPECT_EQ(b.strong_count(), 1u);
}

TEST(ArcTest, AssignmentReleasesTheOldValue) {
  std::atomic<int> destroyed_old{0}, destroyed_new{0};
  {
    Arc<Tracked> a = Arc<Tracked>::make(1, &destroyed_old);
    Arc<Tracked> b = Arc<Tracked>::make(2, &destroyed_new);
    a = b;
    EXPECT_EQ(destroyed_old.load(), 1);
    EXPECT_EQ(b.strong_count(), 2u);
    Arc<Tracked>& alias = a;
    a = alias;  // self-assignment keeps the value
    EXPECT_EQ(a->value, 2);
    EXPECT_EQ(b.strong_count(), 2u);
    a = std::move(b);
    EXPECT_EQ(a.strong_count(), 1u);
  }
  EXPECT_EQ(destroyed_old.load(), 1);
  EXPECT_EQ(destroyed_new.load(), 1);
}

TEST(ArcTest, IntoRawAndFromRawRoundTripKeepTheReference) {
  std::atomic<int> destroyed{0};
  Arc<Tracked> a = Arc<Tracked>::make(5, &destroyed);
  Arc<Tracked> keep = a;
  const Tracked* raw = std::move(a).into_raw();
  EXPECT_EQ(raw, keep.get());
  EXPECT_FALSE(a);                      // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(keep.strong_count(), 2u);   // the raw pointer still owns one
  keep = Arc<Tracked>::make(0, &destroyed);  // drop our other reference...
  EXPECT_EQ(destroyed.load(), 0);       // ...the raw one keeps the value alive
  EXPECT_EQ(raw->value, 5);
  {
    Arc<Tracked> back = Arc<Tracked>::from_raw(raw);
    EXPECT_EQ(back.strong_count(), 1u);
    EXPECT_EQ(back->value, 5);
  }
  EXPECT_EQ(destroyed.load(), 1);
}

TEST(ArcTest, IncrementAndDecrementStrongCountThroughARawPointer) {
  std::atomic<int> destroyed{0};
  Arc<Tracked> a = Arc<Tracked>::make(1, &destroyed);
  const Tracked* raw = a.get();
  Arc<Tracked>::increment_strong_count(raw);
  EXPECT_EQ(a.strong_count(), 2u);
  Arc<Tracked>::decrement_strong_count(raw);
  EXPECT_EQ(a.strong_count(), 1u);
  // decrement_strong_count can drop the last reference too.
  const Tracked* last = std::move(a).into_raw();
  EXPECT_EQ(destroyed.load(), 0);
  Arc<Tracked>::decrement_strong_count(last);
  EXPECT_EQ(destroyed.load(), 1);
}

struct ThrowsOnConstruction {
  explicit ThrowsOnConstruction(int) { throw std::runtime_error("no"); }
};

TEST(ArcTest, MakeWithAThrowingConstructorFreesTheBlock) {
  // Under --config=asan, LeakSanitizer fails the test if the block leaks.
  EXPECT_THROW(Arc<ThrowsOnConstruction>::make(1), std::runtime_error);
}

struct alignas(64) OverAligned {
  unsigned char bytes[64];
};

TEST(ArcTest, OverAlignedValuesAreAligned) {
  std::vector<Arc<OverAligned>> arcs;
  for (int i = 0; i < 8; ++i) {
    arcs.push_back(Arc<OverAligned>::make());
    // reinterpret_cast: reads the address as a number, to test its alignment.
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(arcs.back().get()) % 64, 0u);
    const OverAligned* raw = std::move(arcs.back()).into_raw();
    arcs.back() = Arc<OverAligned>::from_raw(raw);  // the offset works both ways
    EXPECT_EQ(arcs.back().get(), raw);
  }
}

// Several threads clone and drop their own copies of one Arc at once; the
// count must come back to exactly where it started.
TEST(ArcTest, ConcurrentCloneAndDropKeepTheCountExact) {
  constexpr int kThreads = 4;
  constexpr int kIterations = 20000;
  std::atomic<int> destroyed{0};
  Arc<Tracked> a = Arc<Tracked>::make(1, &destroyed);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([mine = a] {
      for (int i = 0; i < kIterations; ++i) {
        Arc<Tracked> c1 = mine;
        Arc<Tracked>::increment_strong_count(c1.get());
        Arc<Tracked> c2 = c1;
        Arc<Tracked>::decrement_strong_count(c2.get());
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(a.strong_count(), 1u);  // each thread's `mine` is gone with it
  EXPECT_EQ(destroyed.load(), 0);
  a = Arc<Tracked>::make(2, &destroyed);
  EXPECT_EQ(destroyed.load(), 1);
}

// The last-drop race: every round, kThreads threads each write their own slot
// of the shared value (plain ints, no atomics) and then drop their reference
// at the same moment. Exactly one of them must run the destructor, and the
// destructor must see every slot written: that is what the acq_rel decrement
// promises, and ThreadSanitizer reports a data race if it does not hold.
struct Slots {
  static constexpr int kThreads = 4;
  int written[kThreads] = {};
  std::atomic<int>* destructions;
  std::atomic<int>* complete_sums;
  explicit Slots(std::atomic<int>* d, std::atomic<int>* ok) : destructions(d), complete_sums(ok) {}
  ~Slots() {
    int sum = 0;
    for (int w : written) sum += w;
    destructions->fetch_add(1);
    if (sum == kThreads) complete_sums->fetch_add(1);
  }
};

TEST(ArcTest, LastDropRunsTheDestructorOnceAfterEveryThreadsWrites) {
  constexpr int kRounds = 300;
  std::atomic<int> destructions{0}, complete_sums{0};
  for (int round = 0; round < kRounds; ++round) {
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    {
      Arc<Slots> shared = Arc<Slots>::make(&destructions, &complete_sums);
      for (int t = 0; t < Slots::kThreads; ++t) {
        threads.emplace_back([mine = shared, t, &ready]() mutable {
          mine->written[t] = 1;
          ready.fetch_add(1);
          while (ready.load() < Slots::kThreads) std::this_thread::yield();
          Arc<Slots> dropped = std::move(mine);  // all drop at about the same time
        });
      }
    }  // the main thread's reference goes first
    for (auto& th : threads) th.join();
  }
  EXPECT_EQ(destructions.load(), kRounds);
  EXPECT_EQ(complete_sums.load(), kRounds);
}

}  // namespace
}  // namespace pollwake
