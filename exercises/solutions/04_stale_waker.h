// Solution to exercise 04: replace the stored waker unless it would wake the
// same task (will_wake), which also saves a clone on the usual path.
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
      if (!bell_->waker_ || !bell_->waker_->will_wake(cx.waker())) {
        bell_->waker_.emplace(cx.waker());  // the latest poll's waker wins
      }
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
