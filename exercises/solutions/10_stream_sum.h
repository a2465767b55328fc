// Solution to exercise 10: the loop lives inside poll; Pending comes only
// from the stream, which then holds cx's waker.
#ifndef POLLWAKE_EXERCISES_10_STREAM_SUM_H_
#define POLLWAKE_EXERCISES_10_STREAM_SUM_H_

#include <optional>
#include <utility>

#include "exercises/support.h"
#include "poll/stream.h"

namespace exercises {

template <pollwake::Stream S>
class Sum {
 public:
  using Output = int;
  explicit Sum(S s) : s_(std::move(s)) {}

  Poll<int> poll(Context& cx) {
    for (;;) {
      Poll<std::optional<int>> p = s_.poll_next(cx);
      if (p.is_pending()) return Pending;  // the stream will wake us
      std::optional<int> item = p.value();
      if (!item) return Ready(total_);     // the stream ended
      total_ += *item;                     // the loop body
    }
  }

 private:
  S s_;
  int total_ = 0;
};

template <class S>
Sum<S> sum(S s) {
  return Sum<S>(std::move(s));
}

}  // namespace exercises

#endif  // POLLWAKE_EXERCISES_10_STREAM_SUM_H_
