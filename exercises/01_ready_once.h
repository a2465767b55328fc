// Exercise 01: a future that is ready at once, once.       (docs chapter 1)
//
// Rust's `std::future::ready(v)` is a future whose first poll returns
// Ready(v). Its second poll panics ("`Ready` polled after completion"): a
// future hands over its value once. pollwake's rule is the same, spelled
// as an exception: pollwake::polled_after_completion("...") throws
// FuturePolledAfterCompletion.
//
// Make ReadyOnce keep that rule. The test (01_ready_once_test.cc) polls it
// twice.
//
// HINT: remember that the value was handed over (a flag, or an
// HINT: std::optional you move out of), and on the next poll call
// HINT: pollwake::polled_after_completion("ReadyOnce").
#ifndef POLLWAKE_EXERCISES_01_READY_ONCE_H_
#define POLLWAKE_EXERCISES_01_READY_ONCE_H_

#include <utility>

#include "exercises/support.h"

namespace exercises {

template <class T>
class ReadyOnce {
 public:
  using Output = T;
  explicit ReadyOnce(T value) : value_(std::move(value)) {}

  Poll<T> poll(Context&) {
    return Ready(value_);  // TODO: a second poll must throw
  }

 private:
  T value_;
};

}  // namespace exercises

#endif  // POLLWAKE_EXERCISES_01_READY_ONCE_H_
