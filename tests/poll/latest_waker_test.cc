// tests/poll/latest_waker_test.cc: LatestWaker and TakenWaker (poll/
// latest_waker.h), the "store or refresh with clone_from; wake after
// unlocking" idiom.
#include "poll/latest_waker.h"

#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>

#include <gtest/gtest.h>

#include "poll/waker.h"
#include "poll/waker_fn.h"
#include "tests/support/counting_waker.h"

namespace pollwake {
namespace {

using testing::CountingWaker;

TEST(LatestWakerTest, UpdateStoresAClone) {
  CountingWaker task;
  {
    LatestWaker slot;
    EXPECT_FALSE(slot.has_waker());
    Waker w = task.owned();
    slot.update(w);
    EXPECT_TRUE(slot.has_waker());
    EXPECT_EQ(task.clones(), 1);
  }
  EXPECT_EQ(task.live(), 0);  // the slot's clone was dropped with it
}

TEST(LatestWakerTest, UpdateWithTheSameTaskClonesNothing) {
  CountingWaker task;
  {
    LatestWaker slot;
    Waker w = task.owned();
    for (int i = 0; i < 5; ++i) slot.update(w);  // an executor re-polling
    EXPECT_EQ(task.clones(), 1);
    EXPECT_EQ(task.drops(), 0);
  }
  EXPECT_EQ(task.live(), 0);
}

TEST(LatestWakerTest, UpdateWithAnotherTaskReplacesTheStoredWaker) {
  CountingWaker first;
  CountingWaker second;
  {
    LatestWaker slot;
    Waker a = first.owned();
    Waker b = second.owned();
    slot.update(a);
    slot.update(b);  // the future moved to another task: only it counts
    EXPECT_EQ(first.live(), 1);   // only `a` is left of the first task
    std::move(slot.take()).wake();
    EXPECT_EQ(first.wakes(), 0);
    EXPECT_EQ(second.wakes(), 1);
  }
  EXPECT_EQ(first.live(), 0);
  EXPECT_EQ(second.live(), 0);
}

TEST(LatestWakerTest, TakeEmptiesTheSlotAndTheTakenWakerWakesOnce) {
  CountingWaker task;
  {
    LatestWaker slot;
    slot.update(task.owned());
    TakenWaker taken = slot.take();
    EXPECT_TRUE(static_cast<bool>(taken));
    EXPECT_FALSE(slot.has_waker());
    std::move(taken).wake();
    EXPECT_EQ(task.wakes(), 1);
    std::move(taken).wake();  // consumed: nothing more
    EXPECT_EQ(task.wakes(), 1);
    EXPECT_FALSE(static_cast<bool>(slot.take()));  // empty slot: empty result
    slot.take().wake();                            // and waking it does nothing
  }
  EXPECT_EQ(task.live(), 0);
}

TEST(LatestWakerTest, ATakenWakerThatIsNeverWokenIsDropped) {
  CountingWaker task;
  {
    LatestWaker slot;
    slot.update(task.owned());
    TakenWaker taken = slot.take();
  }
  EXPECT_EQ(task.wakes(), 0);
  EXPECT_EQ(task.live(), 0);
}

TEST(LatestWakerTest, CloneLeavesTheSlotFull) {
  CountingWaker task;
  {
    LatestWaker slot;
    EXPECT_FALSE(slot.clone().has_value());
    slot.update(task.owned());
    std::optional<Waker> c = slot.clone();
    ASSERT_TRUE(c.has_value());
    c->wake_by_ref();
    EXPECT_TRUE(slot.has_waker());
    EXPECT_EQ(task.wake_by_refs(), 1);
  }
  EXPECT_EQ(task.live(), 0);
}

// Why the wake comes after unlocking: this waker locks the state's mutex,
// as a waker that polls the task inline would. Taken under the lock and woken
// after it, it runs without deadlocking (std::mutex is not recursive; waking
// under the lock would hang or abort here).
TEST(LatestWakerTest, WakingAfterUnlockingLetsTheWakerLockTheSameState) {
  std::mutex mu;
  LatestWaker slot;  // guarded by mu
  int woken = 0;     // guarded by mu
  Waker w = waker_fn([&] {
    std::lock_guard lock(mu);
    ++woken;
  });
  {
    std::lock_guard lock(mu);
    slot.update(w);
  }
  TakenWaker to_wake;
  {
    std::lock_guard lock(mu);
    to_wake = slot.take();
  }
  std::move(to_wake).wake();
  std::lock_guard lock(mu);
  EXPECT_EQ(woken, 1);
}

// A producer on another thread and a re-polling consumer, both under one
// lock: every producer round finds the latest waker.
TEST(LatestWakerTest, AProducerOnAnotherThreadWakesTheLatestWaker) {
  constexpr int kRounds = 2000;
  CountingWaker task;
  {
    std::mutex mu;
    LatestWaker slot;  // guarded by mu
    Waker w = task.owned();
    std::thread producer([&] {
      for (int i = 0; i < kRounds; ++i) {
        TakenWaker to_wake;
        {
          std::lock_guard lock(mu);
          to_wake = slot.take();
        }
        std::move(to_wake).wake();
      }
    });
    for (int i = 0; i < kRounds; ++i) {
      std::lock_guard lock(mu);
      slot.update(w);
    }
    producer.join();
  }
  EXPECT_EQ(task.live(), 0);  // every clone woken or dropped exactly once
}

static_assert(std::is_nothrow_move_constructible_v<TakenWaker>);

}  // namespace
}  // namespace pollwake
