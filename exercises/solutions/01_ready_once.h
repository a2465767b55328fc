// Solution to exercise 01: the value lives in an optional that the first
// poll empties; an empty optional means "already handed over".
#ifndef POLLWAKE_EXERCISES_01_READY_ONCE_H_
#define POLLWAKE_EXERCISES_01_READY_ONCE_H_

#include <optional>
#include <utility>

#include "exercises/support.h"

namespace exercises {

template <class T>
class ReadyOnce {
 public:
  using Output = T;
  explicit ReadyOnce(T value) : value_(std::move(value)) {}

  Poll<T> poll(Context&) {
    if (!value_) pollwake::polled_after_completion("ReadyOnce");
    T out = std::move(*value_);
    value_.reset();
    return Ready(std::move(out));
  }

 private:
  std::optional<T> value_;
};

}  // namespace exercises

#endif  // POLLWAKE_EXERCISES_01_READY_ONCE_H_
