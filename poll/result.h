// poll/result.h
//
// Models Rust's `Result<T, E>` as far as pollwake needs it: a channel's
// `Canceled` error, `Poll<Result<T, E>>::map_ok`, and the `?` operator in the
// state-machine examples.
//
//   Rust                 pollwake
//   Ok(v) / Err(e)       Ok(v) / Err(e), converting to any Result<T, E>
//   is_ok / is_err       same
//   unwrap               value() (throws BadResultAccess on Err)
//   unwrap_err           error()
//   map / map_err        same
//
// How pollwake differs, and why: C++20 has no std::expected, so this is a
// small std::variant wrapper. Where Rust's `unwrap` panics, value() throws.
//
// Its promises, and the tests that check them, are written once in
// docs/guarantees.md ("Futures, combinators and timers").
#ifndef POLLWAKE_POLL_RESULT_H_
#define POLLWAKE_POLL_RESULT_H_

#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

namespace pollwake {

template <class T>
struct OkT {
  T value;
};
template <class E>
struct ErrT {
  E error;
};

template <class T>
constexpr OkT<std::decay_t<T>> Ok(T&& v) {
  return {std::forward<T>(v)};
}
template <class E>
constexpr ErrT<std::decay_t<E>> Err(E&& e) {
  return {std::forward<E>(e)};
}

// BadResultAccess: value() on an Err, or error() on an Ok (Rust: panic in
// `unwrap` / `unwrap_err`).
class BadResultAccess : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

template <class T, class E>
class [[nodiscard]] Result {
 public:
  using value_type = T;
  using error_type = E;

  template <class U>
    requires std::is_constructible_v<T, U&&>
  constexpr Result(OkT<U>&& ok)  // NOLINT: implicit, as `Ok(v)`
      : v_(std::in_place_index<0>, std::move(ok.value)) {}
  template <class U>
    requires std::is_constructible_v<E, U&&>
  constexpr Result(ErrT<U>&& err)  // NOLINT: implicit, as `Err(e)`
      : v_(std::in_place_index<1>, std::move(err.error)) {}

  constexpr bool is_ok() const noexcept { return v_.index() == 0; }
  constexpr bool is_err() const noexcept { return v_.index() == 1; }

  // Result::value: the Ok value; throws BadResultAccess on Err.
  constexpr T& value() & { return check_ok(), std::get<0>(v_); }
  constexpr const T& value() const& { return check_ok(), std::get<0>(v_); }
  constexpr T&& value() && { return check_ok(), std::get<0>(std::move(v_)); }
  // Result::error: the Err value; throws BadResultAccess on Ok.
  constexpr E& error() & { return check_err(), std::get<1>(v_); }
  constexpr const E& error() const& { return check_err(), std::get<1>(v_); }
  constexpr E&& error() && { return check_err(), std::get<1>(std::move(v_)); }

  template <class F>
  constexpr auto map(F&& f) && -> Result<std::invoke_result_t<F, T&&>, E> {
    if (is_ok()) return Ok(std::forward<F>(f)(std::get<0>(std::move(v_))));
    return Err(std::get<1>(std::move(v_)));
  }
  template <class F>
  constexpr auto map_err(F&& f) && -> Result<T, std::invoke_result_t<F, E&&>> {
    if (is_ok()) return Ok(std::get<0>(std::move(v_)));
    return Err(std::forward<F>(f)(std::get<1>(std::move(v_))));
  }

  friend constexpr bool operator==(const Result& a, const Result& b) {
    return a.v_ == b.v_;
  }

 private:
  constexpr void check_ok() const {
    if (!is_ok()) throw BadResultAccess("Result::value() called on an Err");
  }
  constexpr void check_err() const {
    if (!is_err()) throw BadResultAccess("Result::error() called on an Ok");
  }
  std::variant<T, E> v_;
};

}  // namespace pollwake

#endif  // POLLWAKE_POLL_RESULT_H_
