// Exercise 03: fix a lost wakeup.                       (docs chapters 1, 12)
//
// A Doorbell is a leaf future: it is Ready once someone rang it. Returning
// Pending is a promise: the future has arranged for the waker of this poll to
// be woken when it can make progress. This one breaks the promise: ring()
// finds no waker to wake, the executor never polls the task again, and the
// task sleeps forever (a lost wakeup; under a real executor, a hang).
//
// HINT: Pending must leave a clone of cx.waker() where ring() will find it
// HINT: (waker_ = cx.waker();). ring() already wakes waker_ if there is one.
#ifndef POLLWAKE_EXERCISES_03_LOST_WAKEUP_H_
#define POLLWAKE_EXERCISES_03_LOST_WAKEUP_H_

#include <optional>
#include <utility>

#include "exercises/support.h"

namespace exercises {

class Doorbell {
 public:
  // The future half; the Doorbell must outlive it.
  class Wait {
   public:
    using Output = pollwake::Unit;
    explicit Wait(Doorbell& bell) : bell_(&bell) {}
    Poll<pollwake::Unit> poll(Context& cx) {
      if (bell_->rung_) return Ready();
      (void)cx;  // TODO: the waker of this poll must be woken by ring()
      return Pending;
    }

   private:
    Doorbell* bell_;
  };

  Wait wait() { return Wait(*this); }

  void ring() {
    rung_ = true;
    if (waker_) {
      Waker w = std::move(*waker_);
      waker_.reset();
      std::move(w).wake();
    }
  }

 private:
  bool rung_ = false;
  std::optional<Waker> waker_;
};

}  // namespace exercises

#endif  // POLLWAKE_EXERCISES_03_LOST_WAKEUP_H_
