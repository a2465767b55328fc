// Exercise 10: a for-each loop over a stream, as a machine. (docs chapter 13)
//
//   async fn sum<S: Stream<Item = i32> + Unpin>(mut s: S) -> i32 {
//       let mut total = 0;
//       while let Some(x) = s.next().await { total += x; }
//       total
//   }
//
// The loop's only await is `s.next()`. So poll may return Pending only when
// the stream did: then the stream holds the waker. This Sum returns Pending
// after every item, although nothing was arranged to wake it: a lost wakeup
// (and one poll per item even when a hundred are ready).
//
// HINT: wrap the body in for (;;): poll_next; Pending -> return Pending;
// HINT: Ready(nullopt) -> return Ready(total_); Ready(x) -> add and go round.
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
    Poll<std::optional<int>> p = s_.poll_next(cx);
    if (p.is_pending()) return Pending;
    std::optional<int> item = p.value();
    if (!item) return Ready(total_);
    total_ += *item;
    return Pending;  // TODO: is anything going to wake us?
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
