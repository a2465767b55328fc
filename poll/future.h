// poll/future.h
//
// Models Rust's `std::future::Future` trait and the pinning rules around it.
//
//   Rust                                        pollwake
//   trait Future { type Output;                 concept Future:
//     fn poll(self: Pin<&mut Self>,               typename F::Output;
//             cx: &mut Context<'_>)               Poll<Output> F::poll(Context&)
//       -> Poll<Self::Output>; }
//   Pin<&mut Self>                              a non-const reference to a future
//                                               that stays where it is
//
// The rules a future and its poller keep (Rust's documentation states the
// same):
//   * A future does nothing until it is polled.
//   * poll returns Ready(v) once. Polling again after that is the caller's
//     bug; every future pollwake ships then throws FuturePolledAfterCompletion
//     (poll/poll.h), where Rust's generated futures panic.
//   * Returning Pending obliges the future to arrange that the waker of the
//     latest poll (cx.waker()) is woken when it can make progress. Only the
//     latest waker counts: a future polled with a new waker must wake that one.
//   * Pinning: once a future has been polled it is not moved. Rust enforces
//     this with Pin<&mut Self>; pollwake states it as a rule: futures are
//     polled in place through a reference, executors keep them on the heap
//     (BoxFuture is Rust's Box::pin), and a future that borrows from itself
//     across a suspension point deletes its move constructor so that breaking
//     the rule does not compile (examples/ show one).
//   * Dropping a future (running its destructor) cancels it, at any state.
//
// Its promises, and the tests that check them, are written once in
// docs/guarantees.md ("Futures, combinators and timers").
#ifndef POLLWAKE_POLL_FUTURE_H_
#define POLLWAKE_POLL_FUTURE_H_

#include <concepts>
#include <type_traits>

#include "poll/context.h"
#include "poll/poll.h"

namespace pollwake {

// [START future_concept]
template <class F>
concept Future = requires(F& f, Context& cx) {
  typename F::Output;
  { f.poll(cx) } -> std::same_as<Poll<typename F::Output>>;
};
// [END future_concept]

// OutputOf<F>: Rust's `<F as Future>::Output`.
template <Future F>
using OutputOf = typename F::Output;

}  // namespace pollwake

#endif  // POLLWAKE_POLL_FUTURE_H_
