// tests/poll/waker_test.cc: Waker (Rust's std::task::Waker) and the
// RawWaker/RawWakerVTable contract, from poll/waker.h and poll/raw_waker.h.
//
// Every test uses CountingWaker (tests/support/counting_waker.h), whose four
// vtable functions count their calls, and ends by checking live() == 0: no
// waker leaked, none dropped twice.
#include "poll/waker.h"

#include <atomic>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "poll/raw_waker.h"
#include "tests/support/counting_waker.h"

namespace pollwake {
namespace {

using testing::CountingWaker;

static_assert(std::is_copy_constructible_v<Waker> && std::is_copy_assignable_v<Waker>);
static_assert(std::is_nothrow_move_constructible_v<Waker>);
static_assert(std::is_nothrow_move_assignable_v<Waker>);
static_assert(!std::is_default_constructible_v<Waker>);  // Rust has no empty Waker

TEST(WakerTest, FromRawTakesOwnershipWithoutCloning) {
  CountingWaker c;
  {
    Waker w = Waker::from_raw(c.raw());
    EXPECT_EQ(c.clones(), 0);
    EXPECT_EQ(c.drops(), 0);
  }
  EXPECT_EQ(c.drops(), 1);  // the destructor is Rust's Drop, run once
  EXPECT_EQ(c.live(), 0);
}

TEST(WakerTest, DataAndVtableReturnWhatFromRawWasGiven) {
  CountingWaker c;
  Waker w = c.owned();
  EXPECT_EQ(w.data(), &c);
  EXPECT_EQ(w.vtable(), &CountingWaker::kVTable);
}

TEST(WakerTest, FromRawRefusesANullVtable) {
  int task = 0;
  EXPECT_THROW((void)Waker::from_raw(RawWaker{&task, nullptr}), std::invalid_argument);
}

TEST(WakerTest, CopyIsCloneAndEachCopyIsDroppedOnce) {
  CountingWaker c;
  {
    Waker a = c.owned();
    Waker b = a;  // Rust: a.clone()
    EXPECT_EQ(c.clones(), 1);
    EXPECT_TRUE(b.will_wake(a));
    Waker d(b);
    EXPECT_EQ(c.clones(), 2);
    EXPECT_EQ(c.drops(), 0);
  }
  EXPECT_EQ(c.drops(), 3);
  EXPECT_EQ(c.live(), 0);
}

// [START wake_consumes]
TEST(WakerTest, WakeConsumesTheWakerSoDropIsNotCalled) {
  CountingWaker c;
  {
    Waker w = c.owned();
    std::move(w).wake();
    EXPECT_EQ(c.wakes(), 1);
    EXPECT_EQ(c.drops(), 0);
    // Consumed: what is left is the noop waker, and waking it does nothing.
    EXPECT_TRUE(w.will_wake(Waker::noop()));  // NOLINT(bugprone-use-after-move)
    w.wake_by_ref();
    std::move(w).wake();
  }
  EXPECT_EQ(c.wakes(), 1);
  EXPECT_EQ(c.wake_by_refs(), 0);
  EXPECT_EQ(c.drops(), 0);
  EXPECT_EQ(c.live(), 0);
}
// [END wake_consumes]

TEST(WakerTest, WakeByRefDoesNotConsume) {
  CountingWaker c;
  {
    Waker w = c.owned();
    w.wake_by_ref();
    w.wake_by_ref();
    EXPECT_EQ(c.wake_by_refs(), 2);
    EXPECT_EQ(c.wakes(), 0);
    EXPECT_EQ(w.data(), &c);  // still the same, usable waker
  }
  EXPECT_EQ(c.drops(), 1);
  EXPECT_EQ(c.live(), 0);
}

TEST(WakerTest, MoveTransfersOwnershipAndMovedFromIsNoop) {
  CountingWaker c;
  {
    Waker a = c.owned();
    Waker b = std::move(a);
    EXPECT_EQ(c.clones(), 0);
    EXPECT_EQ(b.data(), &c);
    // The moved-from waker is the noop waker: it wakes and drops nothing.
    EXPECT_TRUE(a.will_wake(Waker::noop()));  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(a.data(), nullptr);
    a.wake_by_ref();
    Waker from_moved = a;  // cloning the noop waker touches no counts
    EXPECT_EQ(c.wake_by_refs(), 0);
    EXPECT_EQ(c.clones(), 0);
  }
  EXPECT_EQ(c.drops(), 1);  // only b's
  EXPECT_EQ(c.live(), 0);
}

TEST(WakerTest, MoveAssignmentDropsTheOldWakerOnce) {
  CountingWaker old_task, new_task;
  {
    Waker w = old_task.owned();
    Waker other = new_task.owned();
    w = std::move(other);
    EXPECT_EQ(old_task.drops(), 1);
    EXPECT_EQ(new_task.drops(), 0);
    EXPECT_EQ(w.data(), &new_task);
    Waker& alias = w;
    w = std::move(alias);  // self-move keeps the waker
    EXPECT_EQ(w.data(), &new_task);
    EXPECT_EQ(new_task.drops(), 0);
  }
  EXPECT_EQ(old_task.live(), 0);
  EXPECT_EQ(new_task.live(), 0);
  EXPECT_EQ(new_task.clones(), 0);
}

TEST(WakerTest, WillWakeComparesDataAndVtable) {
  CountingWaker c1, c2;
  Waker a = c1.owned();
  Waker b = a;
  Waker other_task = c2.owned();
  EXPECT_TRUE(a.will_wake(a));
  EXPECT_TRUE(a.will_wake(b));
  EXPECT_FALSE(a.will_wake(other_task));  // same vtable, other data
  // Same data, other vtable: a different waker for Rust and for pollwake.
  static const RawWakerVTable kOtherVTable = {
      [](const void* d) -> RawWaker { return RawWaker{d, &kOtherVTable}; },
      [](const void*) {}, [](const void*) {}, [](const void*) {}};
  Waker same_data = Waker::from_raw(RawWaker{&c1, &kOtherVTable});
  EXPECT_FALSE(a.will_wake(same_data));
  EXPECT_FALSE(a.will_wake(Waker::noop()));
}

TEST(WakerTest, CloneFromSkipsTheCloneWhenWillWake) {
  CountingWaker c;
  {
    Waker stored = c.owned();
    Waker fresh = stored;  // clones: 1
    stored.clone_from(fresh);
    stored = fresh;  // copy assignment is clone_from
    EXPECT_EQ(c.clones(), 1);
    EXPECT_EQ(c.drops(), 0);
    stored.clone_from(stored);  // self: nothing to do
    EXPECT_EQ(c.clones(), 1);
    EXPECT_EQ(c.drops(), 0);
  }
  EXPECT_EQ(c.live(), 0);
}

TEST(WakerTest, CloneFromAnotherTaskClonesItAndDropsTheOld) {
  CountingWaker old_task, new_task, third_task;
  {
    Waker stored = old_task.owned();
    Waker latest = new_task.owned();
    stored.clone_from(latest);
    EXPECT_EQ(new_task.clones(), 1);
    EXPECT_EQ(old_task.drops(), 1);
    EXPECT_TRUE(stored.will_wake(latest));
    Waker again = third_task.owned();
    again = latest;  // copy assignment: the same clone-then-drop
    EXPECT_EQ(new_task.clones(), 2);
    EXPECT_EQ(third_task.drops(), 1);
  }
  EXPECT_EQ(old_task.live(), 0);
  EXPECT_EQ(new_task.live(), 0);
  EXPECT_EQ(third_task.live(), 0);
}

TEST(WakerTest, NoopIsOneSharedWakerThatDoesNothing) {
  const Waker& n = Waker::noop();
  EXPECT_EQ(&n, &Waker::noop());
  EXPECT_EQ(n.data(), nullptr);
  ASSERT_NE(n.vtable(), nullptr);
  n.wake_by_ref();
  Waker copy = n;
  EXPECT_TRUE(copy.will_wake(n));
  std::move(copy).wake();
  EXPECT_TRUE(copy.will_wake(n));  // NOLINT(bugprone-use-after-move)
}

TEST(WakerTest, IntoRawHandsOwnershipToTheCaller) {
  CountingWaker c;
  RawWaker raw{};
  {
    Waker w = c.owned();
    raw = std::move(w).into_raw();
    EXPECT_TRUE(w.will_wake(Waker::noop()));  // NOLINT(bugprone-use-after-move)
  }
  EXPECT_EQ(c.drops(), 0);  // the caller owns it now
  EXPECT_EQ(raw.data, &c);
  EXPECT_EQ(raw.vtable, &CountingWaker::kVTable);
  { Waker back = Waker::from_raw(raw); }
  EXPECT_EQ(c.drops(), 1);
  EXPECT_EQ(c.live(), 0);
}

// The one rule for a waker that throws (poll/raw_waker.h): the process stops
// at the boundary in poll/waker.h with a message naming the operation; no
// caller sees the exception, nothing swallows it. One death test per
// operation, each checking the message.
TEST(WakerDeathTest, AWakeThatThrowsStopsTheProcessWithAMessage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        CountingWaker c;
        c.throw_on_wake = true;
        c.owned().wake();
      },
      "RawWakerVTable::wake threw: wake");
}

TEST(WakerDeathTest, AWakeByRefThatThrowsStopsTheProcessWithAMessage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        CountingWaker c;
        c.throw_on_wake_by_ref = true;
        c.owned().wake_by_ref();
      },
      "RawWakerVTable::wake_by_ref threw: wake_by_ref");
}

TEST(WakerDeathTest, ACloneThatThrowsStopsTheProcessWithAMessage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        CountingWaker c;
        Waker w = c.owned();
        c.throw_on_clone = true;
        Waker copy = w;
      },
      "RawWakerVTable::clone threw: clone");
  EXPECT_DEATH(
      {
        CountingWaker stored_task;
        CountingWaker latest_task;
        Waker stored = stored_task.owned();
        latest_task.throw_on_clone = true;
        stored.clone_from(latest_task.owned());
      },
      "RawWakerVTable::clone threw: clone");
}

TEST(WakerDeathTest, ACloneReturningANullVtableStopsTheProcessWithAMessage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        CountingWaker c;
        Waker w = c.owned();
        c.null_vtable_on_clone = true;
        Waker copy = w;
      },
      "RawWakerVTable::clone it returned a RawWaker with a null vtable");
}

// A drop that throws: the destructor reaches the same boundary (and would
// terminate anyway, being noexcept), but with the message.
TEST(WakerDeathTest, ADropThatThrowsStopsTheProcessWithAMessage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        CountingWaker c;
        c.throw_on_drop = true;
        Waker w = c.owned();
      },
      "RawWakerVTable::drop threw: drop");
  EXPECT_DEATH(
      {
        CountingWaker old_task;
        CountingWaker new_task;
        Waker stored = old_task.owned();
        old_task.throw_on_drop = true;
        stored.clone_from(new_task.owned());  // releases the old one
      },
      "RawWakerVTable::drop threw: drop");
}

// Because nothing a Waker does can throw, copying, assigning, cloning and
// waking are all noexcept; containers move and copy wakers without a
// fallback path.
static_assert(std::is_nothrow_copy_constructible_v<Waker>);
static_assert(std::is_nothrow_copy_assignable_v<Waker>);
static_assert(noexcept(std::declval<Waker&>().clone_from(std::declval<const Waker&>())));
static_assert(noexcept(std::declval<const Waker&>().wake_by_ref()));
static_assert(noexcept(std::declval<Waker&&>().wake()));

// All four vtable functions may run on threads other than the one that made
// the waker, on clones, at the same time.
TEST(WakerTest, ClonesAreWokenAndDroppedFromOtherThreads) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 500;
  CountingWaker c;
  {
    Waker original = c.owned();
    const Waker& shared = original;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      Waker mine = original;  // each thread gets its own clone
      threads.emplace_back([w = std::move(mine), &shared] {
        for (int i = 0; i < kRounds; ++i) {
          Waker tmp = w;  // clone on this thread
          tmp.wake_by_ref();
          shared.wake_by_ref();  // one Waker object, woken by all threads at once
          std::move(tmp).wake();
        }
      });  // `w` is dropped on the worker thread, with the lambda
    }
    for (auto& th : threads) th.join();
  }
  EXPECT_EQ(c.clones(), kThreads + kThreads * kRounds);
  EXPECT_EQ(c.wakes(), kThreads * kRounds);
  EXPECT_EQ(c.wake_by_refs(), 2 * kThreads * kRounds);
  EXPECT_EQ(c.live(), 0);
}

}  // namespace
}  // namespace pollwake
