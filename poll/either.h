// poll/either.h
//
// Models `futures::future::Either<A, B>` (the same enum as the `either`
// crate's): a value that is one of two types, `Left(a)` or `Right(b)`.
// pollwake's select() returns one, saying which future won.
//
//   Rust                          pollwake
//   Either::Left(a)               Left(a)   (converts to any Either<L, R>)
//   Either::Right(b)              Right(b)
//   match e { Left(a) => ..,      if (e.is_left()) { e.left() .. }
//             Right(b) => .. }    else { e.right() .. }
//   e.is_left() / is_right()      same
//
// How pollwake differs, and why: C++ has no pattern matching, so the value is
// read with left() / right(); asking for the side that is not there throws
// BadEitherAccess (Rust's `left().unwrap()` panics the same way). L and R may
// be the same type: the side is kept by index, not by type. Futures-rs's
// Either is also a Future when both sides are; pollwake's is only a value.
//
// Its promises, and the tests that check them, are written once in
// docs/guarantees.md ("Futures, combinators and timers").
#ifndef POLLWAKE_POLL_EITHER_H_
#define POLLWAKE_POLL_EITHER_H_

#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

namespace pollwake {

template <class L>
struct LeftT {
  L value;
};
template <class R>
struct RightT {
  R value;
};

// Left(v) / Right(v): the two variants, convertible to any Either whose side
// can be built from v, as Ok(v) / Err(e) convert to any Result.
template <class L>
constexpr LeftT<std::decay_t<L>> Left(L&& v) {
  return {std::forward<L>(v)};
}
template <class R>
constexpr RightT<std::decay_t<R>> Right(R&& v) {
  return {std::forward<R>(v)};
}

// BadEitherAccess: left() on a Right, or right() on a Left.
class BadEitherAccess : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

template <class L, class R>
class Either {
 public:
  using left_type = L;
  using right_type = R;

  template <class U>
    requires std::is_constructible_v<L, U&&>
  constexpr Either(LeftT<U>&& l)  // NOLINT: implicit, as `Either::Left(v)`
      : v_(std::in_place_index<0>, std::move(l.value)) {}
  template <class U>
    requires std::is_constructible_v<R, U&&>
  constexpr Either(RightT<U>&& r)  // NOLINT: implicit, as `Either::Right(v)`
      : v_(std::in_place_index<1>, std::move(r.value)) {}

  constexpr bool is_left() const noexcept { return v_.index() == 0; }
  constexpr bool is_right() const noexcept { return v_.index() == 1; }

  // Either::left: the Left value; throws BadEitherAccess on a Right.
  constexpr L& left() & { return check(0), std::get<0>(v_); }
  constexpr const L& left() const& { return check(0), std::get<0>(v_); }
  constexpr L&& left() && { return check(0), std::get<0>(std::move(v_)); }
  // Either::right: the Right value; throws BadEitherAccess on a Left.
  constexpr R& right() & { return check(1), std::get<1>(v_); }
  constexpr const R& right() const& { return check(1), std::get<1>(v_); }
  constexpr R&& right() && { return check(1), std::get<1>(std::move(v_)); }

 private:
  constexpr void check(std::size_t side) const {
    if (v_.index() != side) {
      throw BadEitherAccess(side == 0 ? "Either::left() called on a Right"
                                      : "Either::right() called on a Left");
    }
  }
  std::variant<L, R> v_;
};

}  // namespace pollwake

#endif  // POLLWAKE_POLL_EITHER_H_
