// Exercise 04: refresh a stale waker.                   (docs chapters 1, 12)
//
// The Doorbell of exercise 03, fixed so that it stores a waker, but only on
// the first poll. A task may be polled next with another waker (a task that
// moved to another executor, or a combinator such as select that wraps the
// waker). The rule is: wake the waker of the LATEST poll. This Doorbell wakes
// the first one, which may belong to an executor that no longer has the task.
//
// HINT: on every Pending, keep cx.waker() unless the stored one already
// HINT: will_wake(cx.waker()) (then the clone can be skipped):
// HINT:   if (!waker_ || !waker_->will_wake(cx.waker())) waker_ = cx.waker();
#ifndef POLLWAKE_EXERCISES_04_STALE_WAKER_H_
#define POLLWAKE_EXERCISES_04_STALE_WAKER_H_

#include <optional>
#include <utility>

#include "exercises/support.h"

namespace exercises {

class Doorbell {
 public:
  class Wait {
   public:
    using Output = pollwake::Unit;
    explicit Wait(Doorbell& bell) : bell_(&bell) {}
    Poll<pollwake::Unit> poll(Context& cx) {
      if (bell_->rung_) return Ready();
      if (!bell_->waker_) bell_->waker_.emplace(cx.waker());  // TODO: only the first?
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

#endif  // POLLWAKE_EXERCISES_04_STALE_WAKER_H_
