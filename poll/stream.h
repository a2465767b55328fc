// poll/stream.h
//
// Models `futures::Stream` (futures-core's `Stream` trait) and three pieces of
// `futures::StreamExt` / `futures::stream`: a future that yields many values,
// one per `poll_next`.
//
//   Rust                                        pollwake
//   trait Stream { type Item;                   concept Stream: S::poll_next(Context&)
//     fn poll_next(self: Pin<&mut Self>,          -> Poll<std::optional<Item>>
//                  cx: &mut Context<'_>)        StreamItem<S> = Item
//       -> Poll<Option<Self::Item>>; }
//   stream.next().await   (StreamExt::next)     next(s) -> NextItem<S>, Output
//                                                 std::optional<Item>
//   stream.for_each(f).await (StreamExt)        for_each(s, f) -> ForEach<S, F>,
//                                                 Output Unit
//   stream::iter(vec)                           iter(std::vector<T>) -> Iter<T>
//
// The contract is Future's, once per item: Ready(Some(v)) hands over one
// item, Ready(None) says the stream has ended, and Pending obliges the stream
// to wake the latest waker when the next item (or the end) can be had.
//
// How pollwake differs, and why:
//   * Rust's `Stream` has an associated type; a concept cannot ask for one
//     that mpsc::Receiver<T> does not declare, so StreamItem<S> is read off
//     poll_next's return type (Poll<std::optional<T>> gives T).
//   * Polling after Ready(None): Rust leaves it to the stream (it may panic
//     or block forever); `FusedStream::is_terminated` lets a caller ask, and
//     `StreamExt::fuse` makes any stream keep answering None. pollwake has
//     no fuse: its Iter and mpsc::Receiver keep answering nullopt, and a
//     stream of your own should say what it does.
//   * No size_hint: futures-core's provided `size_hint` (default `(0, None)`)
//     is a hint for reserving capacity that no pollwake consumer reads, so
//     the concept does not ask for one.
//   * next(s) borrows the stream (Rust: `Next<'_, St>`, which needs
//     `St: Unpin` because it polls through `&mut St`). In pollwake the stream
//     must outlive the NextItem and must not move while one is in flight; the
//     same rule as every future polled through a reference.
//   * for_each takes the stream by value (as Rust does) and calls `f` for
//     each item; f's result is ignored (Rust's for_each awaits the future f
//     returns; pollwake's f is a plain function, the lesson being the loop).
//
// Outcomes to rely on: NextItem and ForEach polled after they returned Ready
// throw FuturePolledAfterCompletion; an exception from `f` or from the stream
// leaves poll() and the ForEach may be polled again (the item is gone).
#ifndef POLLWAKE_POLL_STREAM_H_
#define POLLWAKE_POLL_STREAM_H_

#include <concepts>
#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "poll/context.h"
#include "poll/poll.h"

namespace pollwake {

namespace detail {
template <class P>
struct PollOfOptional : std::false_type {};
template <class T>
struct PollOfOptional<Poll<std::optional<T>>> : std::true_type {
  using Item = T;
};
}  // namespace detail

// [START stream_concept]
template <class S>
concept Stream = requires(S& s, Context& cx) {
  { s.poll_next(cx) };
  requires detail::PollOfOptional<decltype(s.poll_next(cx))>::value;
};

// StreamItem<S>: Rust's `<S as Stream>::Item`.
template <Stream S>
using StreamItem =
    typename detail::PollOfOptional<decltype(std::declval<S&>().poll_next(
        std::declval<Context&>()))>::Item;
// [END stream_concept]

// NextItem<S>: the future of next(s): the next item, or nullopt at the end.
template <Stream S>
class NextItem {
 public:
  using Output = std::optional<StreamItem<S>>;
  explicit NextItem(S& s) : s_(&s) {}
  Poll<Output> poll(Context& cx) {
    if (done_) polled_after_completion("stream::next");
    Poll<Output> p = s_->poll_next(cx);
    done_ = p.is_ready();
    return p;
  }

 private:
  S* s_;
  bool done_ = false;
};

template <Stream S>
NextItem<S> next(S& s) {
  return NextItem<S>(s);
}

// ForEach: `while let Some(x) = s.next().await { f(x) }` written as the state
// machine the compiler would write: one loop in poll, which returns Pending
// only when the stream does.
// [START for_each]
template <Stream S, class F>
  requires std::invocable<F&, StreamItem<S>>
class ForEach {
 public:
  using Output = Unit;
  ForEach(S s, F f) : s_(std::move(s)), f_(std::move(f)) {}

  Poll<Unit> poll(Context& cx) {
    if (done_) polled_after_completion("stream::for_each");
    for (;;) {
      Poll<std::optional<StreamItem<S>>> p = s_.poll_next(cx);
      if (p.is_pending()) return Pending;  // the stream holds cx's waker
      std::optional<StreamItem<S>> item = std::move(p).value();
      if (!item) {                         // Ready(None): the loop ends
        done_ = true;
        return Ready();
      }
      f_(std::move(*item));                // the loop body, then poll again
    }
  }

 private:
  S s_;
  F f_;
  bool done_ = false;
};
// [END for_each]

template <class S, class F>
  requires Stream<std::decay_t<S>>
ForEach<std::decay_t<S>, std::decay_t<F>> for_each(S&& s, F&& f) {
  return ForEach<std::decay_t<S>, std::decay_t<F>>(std::forward<S>(s), std::forward<F>(f));
}

// Iter<T>: futures::stream::iter over a vector: always ready, then ends;
// fused (keeps answering Ready(nullopt)).
template <class T>
class Iter {
 public:
  explicit Iter(std::vector<T> items) : items_(std::move(items)) {}
  Poll<std::optional<T>> poll_next(Context&) {
    if (next_ == items_.size()) return Ready(std::optional<T>());
    return Ready(std::optional<T>(std::move(items_[next_++])));
  }

 private:
  std::vector<T> items_;
  std::size_t next_ = 0;
};

template <class T>
Iter<T> iter(std::vector<T> items) {
  return Iter<T>(std::move(items));
}

}  // namespace pollwake

#endif  // POLLWAKE_POLL_STREAM_H_
