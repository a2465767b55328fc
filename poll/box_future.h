// poll/box_future.h
//
// Models Rust's `futures::future::BoxFuture<'a, T>` (= Pin<Box<dyn Future<Output
// = T> + Send + 'a>>) and `LocalBoxFuture<'a, T>` (the same without Send), and
// `FutureExt::boxed` / `boxed_local`.
//
//   Rust                     pollwake
//   fut.boxed()              boxed(std::move(fut))        -> BoxFuture<T>
//   fut.boxed_local()        boxed_local(std::move(fut))  -> LocalBoxFuture<T>
//
// A boxed future owns one heap object and forwards poll through one virtual
// call; moving the box moves the pointer, never the future, so the future
// stays pinned.
//
// How pollwake differs, and why: C++ cannot check `Send`. BoxFuture and
// LocalBoxFuture are still distinct types so that an API can say which it
// wants (ThreadPool::spawn takes futures that may move between threads); a
// BoxFuture converts to a LocalBoxFuture, as in Rust, not the other way
// (boxing a LocalBoxFuture into a BoxFuture does not compile either).
// After the inner future returns Ready, the box destroys it at once; polling
// the box again (or polling a moved-from box) throws
// FuturePolledAfterCompletion, whatever the inner future would have done.
//
// Its promises, and the tests that check them, are written once in
// docs/guarantees.md ("Futures, combinators and timers").
#ifndef POLLWAKE_POLL_BOX_FUTURE_H_
#define POLLWAKE_POLL_BOX_FUTURE_H_

#include <memory>
#include <type_traits>
#include <utility>

#include "poll/context.h"
#include "poll/future.h"
#include "poll/poll.h"

namespace pollwake {

namespace detail {

template <class T>
struct ErasedFuture {
  virtual ~ErasedFuture() = default;
  virtual Poll<T> poll(Context& cx) = 0;
};

template <class T, class F>
struct ErasedFutureImpl final : ErasedFuture<T> {
  template <class G>
  explicit ErasedFutureImpl(G&& g) : future(std::forward<G>(g)) {}
  Poll<T> poll(Context& cx) override { return future.poll(cx); }
  F future;
};

}  // namespace detail

template <class T, bool kSend>
class BasicBoxFuture;

namespace detail {
// IsLocalBox<F>: F is a LocalBoxFuture, which must not go into a BoxFuture.
template <class F>
inline constexpr bool IsLocalBox = false;
template <class T>
inline constexpr bool IsLocalBox<BasicBoxFuture<T, false>> = true;
}  // namespace detail

template <class T, bool kSend>
class BasicBoxFuture {
 public:
  using Output = T;

  template <class F>
    requires Future<std::decay_t<F>> &&
             std::same_as<OutputOf<std::decay_t<F>>, T> &&
             (!std::same_as<std::decay_t<F>, BasicBoxFuture>) &&
             (!kSend || !detail::IsLocalBox<std::decay_t<F>>)  // local stays local
  explicit BasicBoxFuture(F&& f)
      : impl_(std::make_unique<detail::ErasedFutureImpl<T, std::decay_t<F>>>(
            std::forward<F>(f))) {}

  // A Send box converts to a local one (LocalBoxFuture accepts BoxFuture).
  template <bool kOtherSend>
    requires(kOtherSend && !kSend)
  BasicBoxFuture(BasicBoxFuture<T, kOtherSend>&& other) noexcept  // NOLINT
      : impl_(std::move(other.impl_)) {}

  BasicBoxFuture(BasicBoxFuture&&) noexcept = default;
  BasicBoxFuture& operator=(BasicBoxFuture&&) noexcept = default;

  // [START box_poll]
  Poll<T> poll(Context& cx) {
    if (!impl_) polled_after_completion(kSend ? "BoxFuture" : "LocalBoxFuture");
    Poll<T> p = impl_->poll(cx);
    if (p.is_ready()) impl_.reset();  // finished: release it now
    return p;
  }
  // [END box_poll]

  // True once the inner future has returned Ready (or the box was moved from).
  bool is_terminated() const noexcept { return impl_ == nullptr; }

 private:
  template <class, bool>
  friend class BasicBoxFuture;
  std::unique_ptr<detail::ErasedFuture<T>> impl_;
};

template <class T>
using BoxFuture = BasicBoxFuture<T, true>;
template <class T>
using LocalBoxFuture = BasicBoxFuture<T, false>;

// boxed: Rust's FutureExt::boxed. The future must be safe to poll from
// another thread than the one that made it (Rust: Send).
template <class F>
  requires Future<std::decay_t<F>> && (!detail::IsLocalBox<std::decay_t<F>>)
BoxFuture<OutputOf<std::decay_t<F>>> boxed(F&& f) {
  return BoxFuture<OutputOf<std::decay_t<F>>>(std::forward<F>(f));
}

// boxed_local: Rust's FutureExt::boxed_local.
template <class F>
  requires Future<std::decay_t<F>>
LocalBoxFuture<OutputOf<std::decay_t<F>>> boxed_local(F&& f) {
  return LocalBoxFuture<OutputOf<std::decay_t<F>>>(std::forward<F>(f));
}

}  // namespace pollwake

#endif  // POLLWAKE_POLL_BOX_FUTURE_H_
