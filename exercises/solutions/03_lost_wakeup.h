// Solution to exercise 03: store the waker before returning Pending.
#ifndef POLLWAKE_EXERCISES_03_LOST_WAKEUP_H_
#define POLLWAKE_EXERCISES_03_LOST_WAKEUP_H_

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
      bell_->waker_.emplace(cx.waker());  // the promise behind Pending
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
