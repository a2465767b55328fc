// Solution to exercise 06: poll the work first, then the timer.
#ifndef POLLWAKE_EXERCISES_06_TIMEOUT_H_
#define POLLWAKE_EXERCISES_06_TIMEOUT_H_

#include <optional>
#include <utility>

#include "exercises/support.h"
#include "poll/future.h"

namespace exercises {

template <pollwake::Future F, pollwake::Future T>
class Timeout {
 public:
  using Output = std::optional<pollwake::OutputOf<F>>;
  Timeout(F fut, T timer) : fut_(std::move(fut)), timer_(std::move(timer)) {}

  Poll<Output> poll(Context& cx) {
    Poll<pollwake::OutputOf<F>> p = fut_.poll(cx);
    if (p.is_ready()) return Ready(Output(std::move(p).value()));
    if (timer_.poll(cx).is_ready()) return Ready(Output());  // timed out
    return Pending;  // both hold cx's waker
  }

 private:
  F fut_;
  T timer_;
};

template <class F, class T>
Timeout<F, T> with_timeout(F fut, T timer) {
  return Timeout<F, T>(std::move(fut), std::move(timer));
}

}  // namespace exercises

#endif  // POLLWAKE_EXERCISES_06_TIMEOUT_H_
