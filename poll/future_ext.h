// poll/future_ext.h
//
// Models `futures::future::FutureExt::map` and `FutureExt::then`: build a new
// future from an old one and a closure, without an async block.
//
//   Rust                          pollwake
//   fut.map(|v| f(v))             map(fut, f)   or   fut | map(f)
//   fut.then(|v| async { .. })    then(fut, f)  or   fut | then(f)
//
// map(fut, f) polls `fut`; when it is Ready(v), returns Ready(f(v)). If f
// returns void, the output is Unit (Rust's `()`).
// then(fut, f) polls `fut`; when it is Ready(v), calls f(v) to get a second
// future and polls that one at once, in the same poll, with the same Context;
// its output is the Then's output.
//
// How pollwake differs, and why: Rust's extension traits add methods to
// every future; C++ cannot add methods to a type it does not own, so map and
// then are free functions, and `fut | map(f)` reads in the same left-to-right
// order as Rust's `fut.map(f)`. The closure runs inside poll(), on the
// thread that polls.
//
// Outcomes to rely on:
//   * Polled after it returned Ready: throws FuturePolledAfterCompletion.
//   * The inner future is destroyed as soon as it finishes; the closure is
//     destroyed after its one call. Dropping a Map or Then early destroys
//     whatever it holds (closure, first future, or second future).
//   * The closure throws: the exception leaves poll() and the Map / Then
//     counts as finished (the output it would have mapped is gone), so a
//     later poll throws FuturePolledAfterCompletion.
//   * Then's second future, once made, is polled in place and never moved.
//
// Its promises, and the tests that check them, are written once in
// docs/guarantees.md ("Futures, combinators and timers").
#ifndef POLLWAKE_POLL_FUTURE_EXT_H_
#define POLLWAKE_POLL_FUTURE_EXT_H_

#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include "poll/context.h"
#include "poll/future.h"
#include "poll/poll.h"

namespace pollwake {

namespace detail {
// Calls f(v); a void result becomes Unit.
template <class F, class T>
auto invoke_unit(F& f, T&& v) {
  if constexpr (std::is_void_v<std::invoke_result_t<F&, T&&>>) {
    std::invoke(f, std::forward<T>(v));
    return Unit{};
  } else {
    return std::invoke(f, std::forward<T>(v));
  }
}
}  // namespace detail

template <Future Fut, class F>
  requires std::invocable<F&, OutputOf<Fut>&&>
class Map {
 public:
  using Output = decltype(detail::invoke_unit(std::declval<F&>(), std::declval<OutputOf<Fut>&&>()));

  Map(Fut fut, F f) : fut_(std::move(fut)), f_(std::move(f)) {}

  Poll<Output> poll(Context& cx) {
    if (!fut_) polled_after_completion("map");
    Poll<OutputOf<Fut>> p = fut_->poll(cx);
    if (p.is_pending()) return Pending;
    fut_.reset();  // finished: destroyed now, and the Map is finished too
    F f = std::move(*f_);
    f_.reset();
    return Ready(detail::invoke_unit(f, std::move(p).value()));
  }

 private:
  std::optional<Fut> fut_;  // empty once the inner future finished
  std::optional<F> f_;
};

template <Future Fut, class F>
  requires std::invocable<F&, OutputOf<Fut>&&> &&
           Future<std::invoke_result_t<F&, OutputOf<Fut>&&>>
class Then {
 public:
  using Second = std::invoke_result_t<F&, OutputOf<Fut>&&>;
  using Output = OutputOf<Second>;

  Then(Fut fut, F f) : first_(std::move(fut)), f_(std::move(f)) {}

  Poll<Output> poll(Context& cx) {
    if (first_) {
      Poll<OutputOf<Fut>> p = first_->poll(cx);
      if (p.is_pending()) return Pending;
      first_.reset();
      F f = std::move(*f_);
      f_.reset();
      // Built in place inside the optional; from here on it never moves.
      second_.emplace(std::invoke(f, std::move(p).value()));
    }
    if (!second_) polled_after_completion("then");
    Poll<Output> p = second_->poll(cx);  // same poll, same Context
    if (p.is_ready()) second_.reset();   // finished: next poll throws
    return p;
  }

 private:
  std::optional<Fut> first_;    // state 1: running the first future
  std::optional<F> f_;          // kept until the first future is Ready
  std::optional<Second> second_;  // state 2: running the future f returned
};

template <class Fut, class F>
  requires Future<std::decay_t<Fut>>
Map<std::decay_t<Fut>, std::decay_t<F>> map(Fut&& fut, F&& f) {
  return {std::forward<Fut>(fut), std::forward<F>(f)};
}

template <class Fut, class F>
  requires Future<std::decay_t<Fut>>
Then<std::decay_t<Fut>, std::decay_t<F>> then(Fut&& fut, F&& f) {
  return {std::forward<Fut>(fut), std::forward<F>(f)};
}

// The pipe forms: `fut | map(f)` and `fut | then(f)`. map(f) / then(f) with
// one argument only hold the closure until a future comes from the left.
template <class F>
struct MapWith {
  F f;
};
template <class F>
struct ThenWith {
  F f;
};

template <class F>
  requires(!Future<std::decay_t<F>>)
MapWith<std::decay_t<F>> map(F&& f) {
  return {std::forward<F>(f)};
}
template <class F>
  requires(!Future<std::decay_t<F>>)
ThenWith<std::decay_t<F>> then(F&& f) {
  return {std::forward<F>(f)};
}

template <class Fut, class F>
  requires Future<std::decay_t<Fut>>
auto operator|(Fut&& fut, MapWith<F> m) {
  return map(std::forward<Fut>(fut), std::move(m.f));
}
template <class Fut, class F>
  requires Future<std::decay_t<Fut>>
auto operator|(Fut&& fut, ThenWith<F> t) {
  return then(std::forward<Fut>(fut), std::move(t.f));
}

}  // namespace pollwake

#endif  // POLLWAKE_POLL_FUTURE_EXT_H_
