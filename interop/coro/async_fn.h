// interop/coro/async_fn.h
//
// Models a Rust `async fn` / `async` block: a function whose body becomes a
// future that runs only when polled. Async<T> is a C++20 coroutine type whose
// object satisfies pollwake's Future concept (poll/future.h).
//
//   Rust                                  pollwake
//   async fn f() -> u32 { ... }           coro::Async<std::uint32_t> f() { ... co_return v; }
//   async fn g() { ... }                  coro::Async<> g() { ... co_return; }   (Output = Unit)
//   fut.await                             co_await fut   (fut: any pollwake Future)
//   the compiler's state machine          the coroutine frame the compiler builds
//   drop(fut)                             ~Async(): destroys the frame, cancelling it
//
// What a reader may rely on:
//   * Created suspended: calling f() allocates the frame and runs nothing of
//     the body (initial_suspend is suspend_always). Rust's async fn, too, does
//     nothing until polled; C#'s async method (interop/csharp/task.h) is the
//     opposite.
//   * poll(cx) resumes the body on the polling thread and runs it until it
//     finishes (Ready) or reaches a `co_await` whose future returns Pending
//     (Pending). The body sees the poll's Context: `co_await fut` polls `fut`
//     with it, so `fut` stores the waker of the current poll, as Rust's `.await`
//     does. Only pollwake futures can be awaited: awaiting anything else would
//     be a suspension with no waker arranged (a lost wake-up), so it does not
//     compile.
//   * While suspended on an inner future, a later poll polls that inner future
//     directly and resumes the body only once it is Ready (Rust's generated
//     poll does the same: it re-enters the state of the pending `.await`).
//   * Ready(v) is returned once; the frame is destroyed at that moment. Polling
//     again (or polling a moved-from Async) throws FuturePolledAfterCompletion.
//   * An exception that leaves the body (C++'s panic) is rethrown from the poll
//     that reaches it; the Async is then finished. An exception from an inner
//     future's poll is thrown into the body at its `co_await`, where the body
//     may catch it, as an unwinding panic passes through Rust's `.await`.
//   * Dropping cancels: ~Async() destroys the frame wherever it is suspended,
//     which runs the destructors of its locals and of the awaited future.
//
// How pollwake differs, and why: Rust's future is a value whose size the
// compiler knows, pinned by its owner. A C++ coroutine frame is allocated by
// the compiler (operator new, counted in frame_stats.h) and never moves, so
// an Async is a pointer to a pinned frame (Rust's Pin<Box<...>>) and may be
// moved freely, even after it has been polled. `co_await` on an lvalue polls
// that future in place (it must outlive the await); on an rvalue it moves the
// future into the frame first.
//
// Its promises, and the tests that check them, are written once in
// docs/guarantees.md ("The C# model and the bridge").
#ifndef POLLWAKE_INTEROP_CORO_ASYNC_FN_H_
#define POLLWAKE_INTEROP_CORO_ASYNC_FN_H_

#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "interop/coro/frame_stats.h"
#include "poll/context.h"
#include "poll/future.h"
#include "poll/poll.h"

namespace pollwake::coro {

template <class T = Unit>
class Async;

namespace detail {

// Waiting: the inner future a suspended body waits on, type-erased. `poll`
// returns true once the awaiter has its value (or caught an exception) and
// the body may be resumed.
struct Waiting {
  void* awaiter = nullptr;
  bool (*poll)(void* awaiter, Context& cx) = nullptr;
};

// FutureAwaiter<F>: what `co_await fut` becomes inside an Async body. F is
// `G&` for an lvalue (polled in place) or `G` for an rvalue (moved into the
// awaiter, which lives in the frame and so never moves again).
template <class F>
class FutureAwaiter {
  using G = std::remove_cvref_t<F>;
  using Out = OutputOf<G>;

 public:
  FutureAwaiter(F&& future, Context* const* cx, Waiting* waiting)
      : future_(std::forward<F>(future)), cx_(cx), waiting_(waiting) {}

  // First poll, with the Context of the poll that is running the body.
  bool await_ready() {
    Poll<Out> p = future_.poll(**cx_);  // an exception here reaches the body
    if (p.is_pending()) return false;
    out_.emplace(std::move(p).value());
    return true;
  }
  // Pending: leave a note so the next Async::poll polls this future first.
  void await_suspend(std::coroutine_handle<>) noexcept { *waiting_ = Waiting{this, &poll_again}; }
  Out await_resume() {
    if (error_) std::rethrow_exception(error_);
    return std::move(*out_);
  }

 private:
  // SAFETY: `self` is the `this` stored by await_suspend; the awaiter lives
  // in the suspended frame, which the Async owns and is polling right now.
  static bool poll_again(void* self, Context& cx) {
    auto* a = static_cast<FutureAwaiter*>(self);
    try {
      Poll<Out> p = a->future_.poll(cx);
      if (p.is_pending()) return false;
      a->out_.emplace(std::move(p).value());
    } catch (...) {
      a->error_ = std::current_exception();  // rethrown into the body by await_resume
    }
    return true;
  }

  F future_;
  Context* const* cx_;  // the promise's `cx`: the Context of the running poll
  Waiting* waiting_;
  std::optional<Out> out_;
  std::exception_ptr error_;
};

template <class T>
struct AsyncPromiseBase : pollwake::coro::detail::CountedFrame {
  Context* cx = nullptr;  // non-null only while Async::poll is resuming the body
  Waiting waiting;        // set while suspended on an inner future
  std::optional<T> value;
  std::exception_ptr error;

  std::suspend_always initial_suspend() noexcept { return {}; }  // lazy: runs nothing yet
  std::suspend_always final_suspend() noexcept { return {}; }    // Async::poll collects the result
  void unhandled_exception() noexcept { error = std::current_exception(); }

  template <class F>
    requires Future<std::remove_cvref_t<F>>
  FutureAwaiter<F> await_transform(F&& future) {
    return FutureAwaiter<F>(std::forward<F>(future), &cx, &waiting);
  }
};

template <class T>
struct AsyncPromise : AsyncPromiseBase<T> {
  Async<T> get_return_object();
  template <class U>
    requires std::is_constructible_v<T, U&&>
  void return_value(U&& v) {
    this->value.emplace(std::forward<U>(v));
  }
};

template <>
struct AsyncPromise<Unit> : AsyncPromiseBase<Unit> {
  Async<Unit> get_return_object();
  void return_void() { value.emplace(); }
};

}  // namespace detail

template <class T>
class [[nodiscard]] Async {
 public:
  using Output = T;
  using promise_type = detail::AsyncPromise<T>;

  Async(Async&& other) noexcept : frame_(std::exchange(other.frame_, nullptr)) {}
  Async& operator=(Async&& other) noexcept {
    if (this != &other) {
      reset();
      frame_ = std::exchange(other.frame_, nullptr);
    }
    return *this;
  }
  Async(const Async&) = delete;
  Async& operator=(const Async&) = delete;
  // Dropping cancels: the frame is destroyed wherever it is suspended.
  ~Async() { reset(); }

  // Async::poll: resumes the body with `cx` (see the header for the rules).
  Poll<T> poll(Context& cx) {
    if (!frame_) polled_after_completion("Async");
    promise_type& p = frame_.promise();
    if (p.waiting.poll != nullptr) {
      if (!p.waiting.poll(p.waiting.awaiter, cx)) return Pending;  // inner future still Pending
      p.waiting = {};
    }
    p.cx = &cx;
    frame_.resume();  // never throws: the body's exceptions land in unhandled_exception
    p.cx = nullptr;
    if (!frame_.done()) return Pending;  // suspended at a co_await whose future stored cx's waker
    // Finished: take the outcome, then release the frame now (as BoxFuture does).
    std::exception_ptr error = std::exchange(p.error, nullptr);
    std::optional<T> value = std::move(p.value);
    reset();
    if (error) std::rethrow_exception(error);
    return Ready(std::move(*value));
  }

  // True once the body has finished (or this Async was moved from).
  bool is_terminated() const noexcept { return !frame_; }

 private:
  friend struct detail::AsyncPromise<T>;
  explicit Async(std::coroutine_handle<promise_type> frame) noexcept : frame_(frame) {}
  void reset() noexcept {
    if (frame_) std::exchange(frame_, nullptr).destroy();
  }

  std::coroutine_handle<promise_type> frame_;
};

namespace detail {
template <class T>
Async<T> AsyncPromise<T>::get_return_object() {
  return Async<T>(std::coroutine_handle<AsyncPromise<T>>::from_promise(*this));
}
inline Async<Unit> AsyncPromise<Unit>::get_return_object() {
  return Async<Unit>(std::coroutine_handle<AsyncPromise<Unit>>::from_promise(*this));
}
}  // namespace detail

}  // namespace pollwake::coro

#endif  // POLLWAKE_INTEROP_CORO_ASYNC_FN_H_
