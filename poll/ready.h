// poll/ready.h
//
// Models Rust's leaf futures `std::future::ready`, `std::future::pending` and
// `std::future::poll_fn`.
//
//   Rust                          pollwake
//   future::ready(v)  -> Ready<T> ready(v)        -> ReadyFuture<T>
//   future::pending() -> Pending  pending<T>()    -> PendingFuture<T>
//   future::poll_fn(f) -> PollFn  poll_fn(f)      -> PollFn<F>
//
// Polled after completion: ReadyFuture and PollFn throw
// FuturePolledAfterCompletion (Rust's Ready panics with "`Ready` polled after
// completion"; Rust's PollFn just calls the closure again, pollwake does not).
// PendingFuture never completes, so it has no such case; it also never stores
// or wakes the waker, so a task awaiting it sleeps until it is dropped.
//
// Its promises, and the tests that check them, are written once in
// docs/guarantees.md ("Futures, combinators and timers").
#ifndef POLLWAKE_POLL_READY_H_
#define POLLWAKE_POLL_READY_H_

#include <optional>
#include <type_traits>
#include <utility>

#include "poll/context.h"
#include "poll/poll.h"

namespace pollwake {

// [START ready_future]
template <class T>
class ReadyFuture {
 public:
  using Output = T;
  explicit ReadyFuture(T value) : value_(std::move(value)) {}

  Poll<T> poll(Context&) {
    if (!value_) polled_after_completion("ready");
    Poll<T> out = Ready(std::move(*value_));
    value_.reset();
    return out;
  }

 private:
  std::optional<T> value_;
};
// [END ready_future]

template <class T>
ReadyFuture<std::decay_t<T>> ready(T&& value) {
  return ReadyFuture<std::decay_t<T>>(std::forward<T>(value));
}

template <class T>
class PendingFuture {
 public:
  using Output = T;
  Poll<T> poll(Context&) { return Pending; }
};

template <class T = Unit>
PendingFuture<T> pending() {
  return {};
}

namespace detail {
template <class P>
struct PollValue;
template <class T>
struct PollValue<Poll<T>> {
  using type = T;
};
}  // namespace detail

// PollFn<F>: a future whose poll is `f(cx)`; F returns Poll<T>.
template <class F>
class PollFn {
 public:
  using Output = typename detail::PollValue<std::invoke_result_t<F&, Context&>>::type;
  explicit PollFn(F f) : f_(std::move(f)) {}

  Poll<Output> poll(Context& cx) {
    if (done_) polled_after_completion("poll_fn");
    Poll<Output> p = f_(cx);
    done_ = p.is_ready();
    return p;
  }

 private:
  F f_;
  bool done_ = false;
};

template <class F>
PollFn<std::decay_t<F>> poll_fn(F&& f) {
  return PollFn<std::decay_t<F>>(std::forward<F>(f));
}

}  // namespace pollwake

#endif  // POLLWAKE_POLL_READY_H_
