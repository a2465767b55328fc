// poll/poll.h
//
// Models Rust's `std::task::Poll<T>`: the answer a future gives when it is
// polled, either `Ready(value)` or `Pending`.
//
//   Rust                          pollwake
//   enum Poll<T> {Ready(T),       Poll<T>, built from Ready(v) or Pending
//                 Pending}
//   poll.is_ready()/is_pending()  same
//   poll.map(f)                   same
//   Poll<Result<T,E>>::map_ok/err same (T is a pollwake::Result)
//   ()                            Unit
//
// How pollwake differs, and why: C++ has no sum types with pattern matching,
// so a Poll is a small wrapper around std::optional<T>. `Ready(v)` and
// `Pending` are spelled as in Rust and convert to any Poll<T>, so a poll
// function reads `return Pending;` / `return Ready(value * 2);`. A future with
// nothing to return uses `Unit`, Rust's `()`, instead of `void`, so generic
// code never needs a special case for it.
//
// Also here: FuturePolledAfterCompletion, the exception every future that
// pollwake ships throws when it is polled again after it returned Ready
// (Rust panics with "`async fn` resumed after completion").
//
// Its promises, and the tests that check them, are written once in
// docs/guarantees.md ("Futures, combinators and timers").
#ifndef POLLWAKE_POLL_POLL_H_
#define POLLWAKE_POLL_POLL_H_

#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace pollwake {

// Unit is Rust's `()`: the output of a future that produces nothing.
struct Unit {
  friend constexpr bool operator==(Unit, Unit) noexcept { return true; }
};

// PendingT / Pending: the `Poll::Pending` variant, convertible to any Poll<T>.
struct PendingT {
  explicit constexpr PendingT() = default;
};
inline constexpr PendingT Pending{};

// ReadyT<T>: what Ready(v) returns; converts to Poll<U> for any U that can be
// built from T, so `return Ready(1);` works in a function returning Poll<long>.
template <class T>
struct ReadyT {
  T value;
};

// Ready(v): the `Poll::Ready(v)` variant.
template <class T>
constexpr ReadyT<std::decay_t<T>> Ready(T&& value) {
  return ReadyT<std::decay_t<T>>{std::forward<T>(value)};
}
// Ready() with no argument is `Poll::Ready(())`.
constexpr ReadyT<Unit> Ready() { return ReadyT<Unit>{Unit{}}; }

template <class T>
class [[nodiscard]] Poll {
 public:
  using value_type = T;

  constexpr Poll(PendingT) noexcept {}  // NOLINT: implicit, as `Poll::Pending`
  template <class U>
    requires std::is_constructible_v<T, U&&>
  constexpr Poll(ReadyT<U>&& r)  // NOLINT: implicit, as `Poll::Ready(v)`
      : value_(std::in_place, std::move(r.value)) {}

  constexpr bool is_ready() const noexcept { return value_.has_value(); }
  constexpr bool is_pending() const noexcept { return !value_.has_value(); }

  // Poll::value: the ready value. Calling it on a Pending poll throws
  // std::bad_optional_access (Rust would not compile the match).
  constexpr T& value() & { return value_.value(); }
  constexpr const T& value() const& { return value_.value(); }
  constexpr T&& value() && { return std::move(value_.value()); }

  // Poll::map: Ready(v) becomes Ready(f(v)); Pending stays Pending.
  template <class F>
  constexpr auto map(F&& f) && -> Poll<std::invoke_result_t<F, T&&>> {
    if (is_pending()) return Pending;
    return Ready(std::forward<F>(f)(std::move(*value_)));
  }

  // Poll<Result<T, E>>::map_ok: maps the Ok value of a ready result.
  template <class F>
  constexpr auto map_ok(F&& f) && {
    using R = decltype(std::move(*value_).map(std::forward<F>(f)));
    if (is_pending()) return Poll<R>(Pending);
    return Poll<R>(Ready(std::move(*value_).map(std::forward<F>(f))));
  }

  // Poll<Result<T, E>>::map_err: maps the Err value of a ready result.
  template <class F>
  constexpr auto map_err(F&& f) && {
    using R = decltype(std::move(*value_).map_err(std::forward<F>(f)));
    if (is_pending()) return Poll<R>(Pending);
    return Poll<R>(Ready(std::move(*value_).map_err(std::forward<F>(f))));
  }

  friend constexpr bool operator==(const Poll& a, const Poll& b) {
    return a.value_ == b.value_;
  }

 private:
  std::optional<T> value_;
};

// FuturePolledAfterCompletion is thrown by every future pollwake ships when it
// is polled after it has returned Ready. Rust's compiler-generated futures
// panic with "`async fn` resumed after completion"; throwing is C++'s panic.
// The future is left as it was (finished), so catching the exception and
// dropping the future is safe.
class FuturePolledAfterCompletion : public std::logic_error {
 public:
  explicit FuturePolledAfterCompletion(const std::string& future_name)
      : std::logic_error("`" + future_name +
                         "` polled after completion (Rust: `async fn` resumed "
                         "after completion)") {}
};

// polled_after_completion(name): throws FuturePolledAfterCompletion.
[[noreturn]] inline void polled_after_completion(const char* future_name) {
  throw FuturePolledAfterCompletion(future_name);
}

// FuturePolledAfterPanic is what a hand-written state machine that models
// rustc's poisoned state throws when it is polled again after an exception
// escaped one of its polls. rustc's generated future moves to a "poisoned"
// state when a panic unwinds out of its poll (dropping the locals of the
// state it was in) and panics with "`async fn` resumed after panicking" if
// polled again. pollwake's machines (examples/07_early_return.cc) catch the
// exception, destroy the current state, become Poisoned and rethrow; the next
// poll throws this. Like FuturePolledAfterCompletion, the future is left as
// it was (poisoned), so catching this and dropping the future is safe.
class FuturePolledAfterPanic : public std::logic_error {
 public:
  explicit FuturePolledAfterPanic(const std::string& future_name)
      : std::logic_error("`" + future_name +
                         "` polled after an exception escaped its poll (Rust: `async fn` "
                         "resumed after panicking)") {}
};

// polled_after_panic(name): throws FuturePolledAfterPanic.
[[noreturn]] inline void polled_after_panic(const char* future_name) {
  throw FuturePolledAfterPanic(future_name);
}

}  // namespace pollwake

#endif  // POLLWAKE_POLL_POLL_H_
