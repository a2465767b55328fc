// poll/join.h
//
// Models `futures::future::join` / `join3` / `join4` / `join5`, the `join!`
// macro, and `futures::future::join_all`: wait for several futures and keep
// all their outputs.
//
//   Rust                              pollwake
//   join(a, b).await -> (A, B)        join(a, b)         -> Join<A, B>,
//                                                           Output std::tuple<A, B>
//   join3(a, b, c) / join!(a, b, c)   join(a, b, c, ...) -> Join<A, B, C, ...>
//   join_all(iter) -> Vec<T>          join_all(std::vector<F>) -> JoinAll<F>,
//                                                           Output std::vector<T>
//
// What a Join does on each poll: it polls, in argument order, every inner
// future that has not finished yet, passing its own Context down, so each
// pending inner future holds the Join's waker. An inner future that returns
// Ready is destroyed at once and its output kept (futures-rs's `MaybeDone`);
// it is never polled again. When the last one finishes, the Join returns all
// outputs, in argument order, whatever order they finished in.
//
// Cost, and what futures-rs does instead: every wake of the Join re-polls
// every unfinished inner future, even those that were not woken (O(n) per
// wake). futures-rs's join_all does the same for up to 30 futures and
// switches to `FuturesOrdered` (one waker per future) above that; pollwake
// keeps only the simple form.
//
// Outcomes to rely on:
//   * Polled after it returned Ready: throws FuturePolledAfterCompletion.
//   * Dropped early: destroys every unfinished inner future and every output
//     kept so far (that is how a Join is canceled).
//   * An inner future throws: the exception leaves poll(); the Join keeps its
//     state (finished outputs stay, the throwing future stays), so dropping it
//     is safe.
//   * join_all of an empty vector is Ready(empty vector) on the first poll.
// Pinning: once polled, a Join holds polled futures and must not move.
//
// Its promises, and the tests that check them, are written once in
// docs/guarantees.md ("Futures, combinators and timers").
#ifndef POLLWAKE_POLL_JOIN_H_
#define POLLWAKE_POLL_JOIN_H_

#include <cstddef>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "poll/context.h"
#include "poll/future.h"
#include "poll/poll.h"

namespace pollwake {

namespace detail {

// MaybeDone<F>: futures-rs's `MaybeDone`: the future while it runs, then its
// output, then nothing once the output has been taken.
template <Future F>
class MaybeDone {
 public:
  explicit MaybeDone(F f) : future_(std::move(f)) {}

  // Polls the future if it is still running; true once the output is here.
  bool poll(Context& cx) {
    if (!future_) return true;  // finished earlier: never polled again
    Poll<OutputOf<F>> p = future_->poll(cx);
    if (p.is_pending()) return false;
    output_.emplace(std::move(p).value());
    future_.reset();  // Rust: MaybeDone::Future -> MaybeDone::Done drops it
    return true;
  }

  OutputOf<F> take_output() {
    OutputOf<F> out = std::move(*output_);
    output_.reset();
    return out;
  }

 private:
  std::optional<F> future_;
  std::optional<OutputOf<F>> output_;
};

}  // namespace detail

template <Future... Fs>
class Join {
 public:
  using Output = std::tuple<OutputOf<Fs>...>;

  explicit Join(Fs... fs) : parts_(detail::MaybeDone<Fs>(std::move(fs))...) {}

  Poll<Output> poll(Context& cx) {
    if (done_) polled_after_completion("join");
    // Poll every unfinished part in argument order (a comma fold is
    // sequenced left to right), with no short circuit: each gets its turn.
    bool all_done = true;
    std::apply([&](auto&... part) { ((all_done = part.poll(cx) && all_done), ...); }, parts_);
    if (!all_done) return Pending;
    done_ = true;
    return Ready(std::apply([](auto&... part) { return Output{part.take_output()...}; }, parts_));
  }

 private:
  std::tuple<detail::MaybeDone<Fs>...> parts_;
  bool done_ = false;
};

// join(a, b, ...): a future of the tuple of their outputs.
template <class... Fs>
  requires(sizeof...(Fs) >= 2) && (Future<std::decay_t<Fs>> && ...)
Join<std::decay_t<Fs>...> join(Fs&&... fs) {
  return Join<std::decay_t<Fs>...>(std::forward<Fs>(fs)...);
}

template <Future F>
class JoinAll {
 public:
  using Output = std::vector<OutputOf<F>>;

  explicit JoinAll(std::vector<F> futures) {
    // The vector is sized once here and never again, so no part moves after
    // this point (parts are polled in place).
    parts_.reserve(futures.size());
    for (F& f : futures) parts_.emplace_back(std::move(f));
  }

  Poll<Output> poll(Context& cx) {
    if (done_) polled_after_completion("join_all");
    bool all_done = true;
    for (auto& part : parts_) all_done = part.poll(cx) && all_done;
    if (!all_done) return Pending;
    done_ = true;
    Output out;
    out.reserve(parts_.size());
    for (auto& part : parts_) out.push_back(part.take_output());
    return Ready(std::move(out));
  }

 private:
  std::vector<detail::MaybeDone<F>> parts_;
  bool done_ = false;
};

// join_all(futures): a future of the vector of their outputs, in order.
template <Future F>
JoinAll<F> join_all(std::vector<F> futures) {
  return JoinAll<F>(std::move(futures));
}

}  // namespace pollwake

#endif  // POLLWAKE_POLL_JOIN_H_
