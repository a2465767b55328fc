// poll/waker_fn.h
//
// Models the `waker-fn` crate: `waker_fn(f) -> Waker`, a waker that calls a
// closure each time it is woken.
//
//   Rust                                    pollwake
//   waker_fn(move || { ... })               waker_fn([...] { ... })
//   (F: Fn() + Send + Sync + 'static)       (F: invocable through a const
//                                            reference, callable from any thread)
//
// Like the crate, this is the Arc-based waker with the closure as the shared
// value: one allocation when the waker is made, none when it is cloned. The
// closure may be called from any thread and concurrently; it must do its own
// synchronization. As Rust asks for `Fn` (not `FnMut`), F is called through a
// const reference, so a `mutable` lambda, which would race with itself when
// two clones wake at once, does not compile.
//
// Its promises, and the tests that check them, are written once in
// docs/guarantees.md ("Wakers").
#ifndef POLLWAKE_POLL_WAKER_FN_H_
#define POLLWAKE_POLL_WAKER_FN_H_

#include <concepts>
#include <type_traits>
#include <utility>

#include "poll/arc.h"
#include "poll/wake.h"
#include "poll/waker.h"

namespace pollwake {

namespace detail {
// [START fn_wake]
template <class F>
struct FnWake {
  F f;
  void wake_by_ref() const { f(); }
};
// [END fn_wake]
}  // namespace detail

// [START waker_fn]
template <class F>
  requires std::invocable<const std::decay_t<F>&>
Waker waker_fn(F&& f) {
  using Helper = detail::FnWake<std::decay_t<F>>;
  return waker_from(Arc<Helper>::make(Helper{std::forward<F>(f)}));
}
// [END waker_fn]

}  // namespace pollwake

#endif  // POLLWAKE_POLL_WAKER_FN_H_
