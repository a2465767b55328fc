// poll/latest_waker.h
//
// Models the idiom every leaf future and channel in futures-rs writes by
// hand: a `Mutex<Option<Waker>>` field that a Pending poll fills, and that
// the side making progress empties and wakes. In Rust it reads
//
//   // poll, under the lock:
//   match &mut inner.waker {
//       Some(w) => w.clone_from(cx.waker()),   // usually the same task: no clone
//       None => inner.waker = Some(cx.waker().clone()),
//   }
//   // the producer:
//   let w = { let mut inner = lock(); inner.done = true; inner.waker.take() };
//   if let Some(w) = w { w.wake() }            // after the guard is dropped
//
//   Rust                                        pollwake
//   Option<Waker> (guarded by the state's lock) LatestWaker
//   the match above                             slot.update(cx.waker())
//   inner.waker.take()                          slot.take() -> TakenWaker
//   if let Some(w) = w { w.wake() }             std::move(taken).wake()
//
// Two rules make it correct, and the type keeps both:
//   * Only the latest poll's waker counts (a future may move between tasks),
//     so update() replaces or refreshes it; clone_from skips the clone and
//     the drop when the stored waker already wakes the same task, which is
//     the common case on every re-poll.
//   * Wake after unlocking. A wake may run the woken task inline (block_on's
//     waker, a waker that polls), and that task may lock the same state:
//     waking under the lock would deadlock or re-enter. So take() only moves
//     the waker out; TakenWaker is the one thing that wakes, and the caller
//     does it after its lock guard is gone. A TakenWaker that is never woken
//     just drops its waker (also best done outside the lock, as its
//     destructor runs the vtable's drop, which may free a task).
//
// How pollwake differs, and why: LatestWaker holds no lock of its own; it
// lives inside the state that the caller's mutex already guards (as the
// Option does in Rust), so the check of the condition and the update of the
// waker happen under one lock and a producer in between cannot be missed.
//
// Where the idiom is written out instead: AtomicWaker (poll/atomic_waker.h),
// whose lock-free protocol is the lesson; and the first example
// (examples/01_trivial.cc), which builds the idiom by hand to show it. Both
// executors' task handles use it (executor/detail/join_slot.h).
//
// Its promises, and the tests that check them, are written once in
// docs/guarantees.md ("LatestWaker").
#ifndef POLLWAKE_POLL_LATEST_WAKER_H_
#define POLLWAKE_POLL_LATEST_WAKER_H_

#include <optional>
#include <utility>

#include "poll/waker.h"

namespace pollwake {

// TakenWaker: a waker moved out of a LatestWaker under a lock, to be woken
// once the lock is released. Empty when the slot held none.
class TakenWaker {
 public:
  TakenWaker() noexcept = default;
  explicit TakenWaker(std::optional<Waker> w) noexcept : waker_(std::move(w)) {}

  explicit operator bool() const noexcept { return waker_.has_value(); }

  // Wakes the waker, if there is one, and consumes it.
  void wake() && noexcept {
    if (waker_) std::move(*std::exchange(waker_, std::nullopt)).wake();
  }

 private:
  std::optional<Waker> waker_;
};

// LatestWaker: the waker of a pending future's latest poll. Not synchronized
// by itself: every call is made under the lock that guards the future's
// state.
class LatestWaker {
 public:
  // Stores `w` (a clone) or refreshes the stored waker with clone_from, which
  // costs nothing when both wake the same task.
  void update(const Waker& w) noexcept {
    if (waker_) {
      waker_->clone_from(w);
    } else {
      waker_.emplace(w);
    }
  }

  // Empties the slot. Wake (or drop) the result after unlocking.
  [[nodiscard]] TakenWaker take() noexcept {
    return TakenWaker(std::exchange(waker_, std::nullopt));
  }

  bool has_waker() const noexcept { return waker_.has_value(); }

  // True when a waker is stored and it wakes the same task as `w`
  // (Waker::will_wake).
  bool will_wake(const Waker& w) const noexcept { return waker_ && waker_->will_wake(w); }

  // A clone of the stored waker (nullopt if none), for a caller that wakes
  // without emptying the slot; wake it after unlocking, as take()'s result.
  std::optional<Waker> clone() const noexcept { return waker_; }

 private:
  std::optional<Waker> waker_;
};

}  // namespace pollwake

#endif  // POLLWAKE_POLL_LATEST_WAKER_H_
