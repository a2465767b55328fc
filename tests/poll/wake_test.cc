// tests/poll/wake_test.cc: the Wake concept, waker_from and waker_ref
// (Rust's std::task::Wake / futures::task::ArcWake, Waker::from(Arc<W>),
// futures::task::waker_ref) from poll/wake.h.
#include "poll/wake.h"

#include <atomic>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "poll/arc.h"
#include "poll/context.h"
#include "poll/waker.h"

namespace pollwake {
namespace {

// [START counted_task]
// A task that counts its wakes and its destruction.
struct CountedTask {
  explicit CountedTask(std::atomic<int>* destroyed) : destroyed(destroyed) {}
  ~CountedTask() { destroyed->fetch_add(1); }
  // const: wakers share the task (Rust: `&Arc<Self>`); the counter is
  // atomic, so concurrent wakes may change it.
  void wake_by_ref() const {
    wake_by_refs.fetch_add(1);
    if (throw_on_wake) throw std::runtime_error("wake_by_ref");
  }
  mutable std::atomic<int> wake_by_refs{0};
  std::atomic<bool> throw_on_wake{false};
  std::atomic<int>* destroyed;
};
// [END counted_task]

// A task with its own consuming wake (ArcWake::wake), used instead of
// wake_by_ref-then-drop.
struct TaskWithStaticWake {
  void wake_by_ref() const { wake_by_refs.fetch_add(1); }
  static void wake(Arc<TaskWithStaticWake> self) {
    self->consuming_wakes.fetch_add(1);
    self->count_seen_in_wake = self.strong_count();
  }
  mutable std::atomic<int> wake_by_refs{0};
  std::atomic<int> consuming_wakes{0};
  std::size_t count_seen_in_wake = 0;
};

struct NotAWake {
  void wake() {}
};

// A wake_by_ref that needs exclusive access: concurrent wakes of one task
// call wake_by_ref at the same time, so Rust's ArcWake gives only `&Arc<Self>`
// (shared access), and Wake refuses a non-const member.
struct ExclusiveWakeByRef {
  void wake_by_ref() { ++wakes; }
  int wakes = 0;  // a plain int: concurrent wakes would race on it
};

static_assert(Wake<CountedTask>);
static_assert(Wake<TaskWithStaticWake>);
static_assert(!Wake<NotAWake>);
static_assert(!Wake<int>);
static_assert(!Wake<ExclusiveWakeByRef>, "wake_by_ref must be callable on a const W&");

TEST(WakerFromTest, TakesTheArcsReferenceWithoutCloning) {
  std::atomic<int> destroyed{0};
  Arc<CountedTask> task = Arc<CountedTask>::make(&destroyed);
  {
    Waker w = waker_from(task);  // the by-value parameter holds one reference
    EXPECT_EQ(task.strong_count(), 2u);
    EXPECT_EQ(w.data(), task.get());  // data is the value pointer itself
  }
  EXPECT_EQ(task.strong_count(), 1u);
  EXPECT_EQ(destroyed.load(), 0);
}

TEST(WakerFromTest, CloneIncrementsAndDropDecrements) {
  std::atomic<int> destroyed{0};
  Arc<CountedTask> task = Arc<CountedTask>::make(&destroyed);
  Waker w = waker_from(task);
  {
    Waker c1 = w;
    Waker c2 = c1;
    EXPECT_EQ(task.strong_count(), 4u);
    EXPECT_TRUE(c2.will_wake(w));
  }
  EXPECT_EQ(task.strong_count(), 2u);
}

TEST(WakerFromTest, WakeConsumesTheReference) {
  std::atomic<int> destroyed{0};
  Arc<CountedTask> task = Arc<CountedTask>::make(&destroyed);
  Waker w = waker_from(task);
  std::move(w).wake();
  EXPECT_EQ(task->wake_by_refs.load(), 1);  // ArcWake's default wake
  EXPECT_EQ(task.strong_count(), 1u);
}

TEST(WakerFromTest, WakeByRefKeepsTheReference) {
  std::atomic<int> destroyed{0};
  Arc<CountedTask> task = Arc<CountedTask>::make(&destroyed);
  Waker w = waker_from(task);
  w.wake_by_ref();
  w.wake_by_ref();
  EXPECT_EQ(task->wake_by_refs.load(), 2);
  EXPECT_EQ(task.strong_count(), 2u);
}

TEST(WakerFromTest, AStaticWakeIsUsedForTheConsumingWake) {
  Arc<TaskWithStaticWake> task = Arc<TaskWithStaticWake>::make();
  Waker w = waker_from(task);
  w.wake_by_ref();
  std::move(w).wake();
  EXPECT_EQ(task->wake_by_refs.load(), 1);
  EXPECT_EQ(task->consuming_wakes.load(), 1);
  EXPECT_EQ(task->count_seen_in_wake, 2u);  // wake got the waker's own reference
  EXPECT_EQ(task.strong_count(), 1u);
}

// [START last_waker]
TEST(WakerFromTest, TheLastWakerKeepsTheTaskAliveAndFreesIt) {
  std::atomic<int> destroyed{0};
  Waker w = waker_from(Arc<CountedTask>::make(&destroyed));
  Waker clone = w;
  std::move(w).wake();
  EXPECT_EQ(destroyed.load(), 0);
  std::move(clone).wake();  // the last reference: wake, then destroy
  EXPECT_EQ(destroyed.load(), 1);
}
// [END last_waker]

TEST(WakerFromTest, AnEmptyArcIsRefused) {
  std::atomic<int> destroyed{0};
  Arc<CountedTask> task = Arc<CountedTask>::make(&destroyed);
  Arc<CountedTask> moved = std::move(task);
  EXPECT_THROW((void)waker_from(task), std::invalid_argument);  // NOLINT(bugprone-use-after-move)
  EXPECT_THROW((void)waker_ref(task), std::invalid_argument);
  EXPECT_EQ(moved.strong_count(), 1u);
}

// A Wake type whose wake_by_ref throws breaks the waker contract: the process
// stops at Waker's boundary, for the consuming wake (which goes through
// wake_by_ref) as for wake_by_ref itself.
TEST(WakerFromDeathTest, AWakeByRefThatThrowsStopsTheProcess) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        std::atomic<int> destroyed{0};
        Arc<CountedTask> task = Arc<CountedTask>::make(&destroyed);
        task->throw_on_wake = true;
        waker_from(task).wake();
      },
      "RawWakerVTable::wake threw: wake_by_ref");
  EXPECT_DEATH(
      {
        std::atomic<int> destroyed{0};
        Arc<CountedTask> task = Arc<CountedTask>::make(&destroyed);
        task->throw_on_wake = true;
        waker_from(task).wake_by_ref();
      },
      "RawWakerVTable::wake_by_ref threw: wake_by_ref");
}

TEST(WakerFromTest, ClonesWakeFromManyThreads) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 1000;
  std::atomic<int> destroyed{0};
  Arc<CountedTask> task = Arc<CountedTask>::make(&destroyed);
  {
    Waker w = waker_from(task);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([mine = Waker(w)] {
        for (int i = 0; i < kRounds; ++i) {
          Waker c = mine;
          c.wake_by_ref();
          std::move(c).wake();
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  EXPECT_EQ(task->wake_by_refs.load(), 2 * kThreads * kRounds);
  EXPECT_EQ(task.strong_count(), 1u);
  EXPECT_EQ(destroyed.load(), 0);
}

// A temporary WakerRef cannot lend its Waker to a Context that outlives it.
template <class R>
concept CanBuildContextFrom = requires(R&& r) { Context::from_waker(std::forward<R>(r)); };
static_assert(CanBuildContextFrom<WakerRef&>);
static_assert(!CanBuildContextFrom<WakerRef>);

TEST(WakerRefTest, BorrowsWithoutTouchingTheCount) {
  std::atomic<int> destroyed{0};
  Arc<CountedTask> task = Arc<CountedTask>::make(&destroyed);
  {
    WakerRef r = waker_ref(task);
    const Waker& w = r;
    EXPECT_EQ(task.strong_count(), 1u);
    EXPECT_EQ(w.data(), task.get());
    w.wake_by_ref();
    EXPECT_EQ(&r.get(), &w);
  }
  EXPECT_EQ(task.strong_count(), 1u);  // no drop ran for the borrowed waker
  EXPECT_EQ(task->wake_by_refs.load(), 1);
}

TEST(WakerRefTest, CloningTheBorrowedWakerTakesARealReference) {
  std::atomic<int> destroyed{0};
  Arc<CountedTask> task = Arc<CountedTask>::make(&destroyed);
  Waker owned = waker_ref(task).get();  // clone out of the borrow
  EXPECT_EQ(task.strong_count(), 2u);
  task = Arc<CountedTask>::make(&destroyed);  // drop the original Arc
  EXPECT_EQ(destroyed.load(), 0);               // the clone keeps it alive
  std::move(owned).wake();
  EXPECT_EQ(destroyed.load(), 1);
}

TEST(WakerRefTest, WillWakeTheOwnedWakerOfTheSameArc) {
  std::atomic<int> destroyed{0};
  Arc<CountedTask> task = Arc<CountedTask>::make(&destroyed);
  Waker owned = waker_from(task);
  WakerRef borrowed = waker_ref(task);
  EXPECT_TRUE(borrowed.get().will_wake(owned));
  Waker stored = owned;
  stored.clone_from(borrowed);  // an executor refreshing its stored waker
  EXPECT_EQ(task.strong_count(), 3u);  // skipped: same task
}

}  // namespace
}  // namespace pollwake
