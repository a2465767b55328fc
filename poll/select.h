// poll/select.h
//
// Models `futures::future::select(a, b)`: wait for whichever of two futures
// finishes first, and hand back the other one, unfinished, so the caller can
// keep polling it or drop it (which cancels it).
//
//   Rust                                    pollwake
//   select(a, b).await ->                   select(a, b) -> Select<A, B>, Output
//     Either<(A::Output, B),                  Either<std::pair<A::Output, B>,
//            (B::Output, A)>                         std::pair<B::Output, A>>
//   Either::Left((x, b)) => ..              if (r.is_left()) {
//                                             auto [x, b] = std::move(r).left(); ..
//
// Poll order and fairness: each poll of the Select polls `a` first and `b`
// only if `a` is still pending, both with the Select's own Context. So when
// both are ready at the same poll, `a` wins, every time: select is biased
// toward its first argument, exactly like futures-rs's `select` (the `select!`
// macro picks a random order; `select_biased!` does not). A caller that needs
// fairness alternates the argument order, or uses a randomized select.
//
// Moving the loser out: Rust's select requires `A: Unpin, B: Unpin` because
// the loser, already polled, is moved into the result. pollwake's rule is the
// same: both futures must be movable after being polled. A future that must
// stay put (one that deletes its moves) does not compile here; box it first
// (boxed / boxed_local), as Rust asks for `Box::pin`.
//
// Outcomes to rely on:
//   * Polled after it returned Ready: throws FuturePolledAfterCompletion.
//   * Dropped before either finished: destroys both futures.
//   * After Ready, the winner has been destroyed and the loser lives on in
//     the output; the Select holds nothing.
//   * An inner future throws: the exception leaves poll(); both futures stay.
//
// Its promises, and the tests that check them, are written once in
// docs/guarantees.md ("Futures, combinators and timers").
#ifndef POLLWAKE_POLL_SELECT_H_
#define POLLWAKE_POLL_SELECT_H_

#include <concepts>
#include <optional>
#include <type_traits>
#include <utility>

#include "poll/context.h"
#include "poll/either.h"
#include "poll/future.h"
#include "poll/poll.h"

namespace pollwake {

template <Future A, Future B>
  requires std::move_constructible<A> && std::move_constructible<B>
class Select {
 public:
  using Output = Either<std::pair<OutputOf<A>, B>, std::pair<OutputOf<B>, A>>;

  Select(A a, B b) : inner_(std::in_place, std::move(a), std::move(b)) {}

  Poll<Output> poll(Context& cx) {
    if (!inner_) polled_after_completion("select");
    auto& [a, b] = *inner_;
    if (Poll<OutputOf<A>> pa = a.poll(cx); pa.is_ready()) {  // `a` first: biased
      Output out = Left(std::pair<OutputOf<A>, B>(std::move(pa).value(), std::move(b)));
      inner_.reset();  // destroys the winner (and the moved-from loser shell)
      return Ready(std::move(out));
    }
    if (Poll<OutputOf<B>> pb = b.poll(cx); pb.is_ready()) {
      Output out = Right(std::pair<OutputOf<B>, A>(std::move(pb).value(), std::move(a)));
      inner_.reset();
      return Ready(std::move(out));
    }
    return Pending;  // both pending: both hold this poll's waker
  }

 private:
  std::optional<std::pair<A, B>> inner_;  // empty once Ready was returned
};

// select(a, b): a future of whichever finishes first, plus the other one.
template <class A, class B>
  requires Future<std::decay_t<A>> && Future<std::decay_t<B>>
Select<std::decay_t<A>, std::decay_t<B>> select(A&& a, B&& b) {
  return Select<std::decay_t<A>, std::decay_t<B>>(std::forward<A>(a), std::forward<B>(b));
}

}  // namespace pollwake

#endif  // POLLWAKE_POLL_SELECT_H_
