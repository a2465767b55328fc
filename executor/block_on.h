// executor/block_on.h
//
// Models futures-rs's `futures::executor::block_on(f)`: runs a future to
// completion on the calling thread, sleeping (parking) between polls until
// the future's waker is woken.
//
//   Rust (futures-executor)          pollwake
//   block_on(f) -> F::Output         block_on(f) -> OutputOf<F>
//   (ThreadNotify, thread::park)     block_on_with<Strategy>(f) picks how to
//                                    sleep: CondvarPark, FutexPark,
//                                    SpinThenPark (executor/parker.h)
//   panics if called inside an       throws EnterError (executor/enter.h)
//   executor ("cannot execute ...")
//
// What the caller may rely on:
//   * The future is polled only on the calling thread, first at once, then
//     once after each wake (wakes that come while it is being polled, or
//     several wakes before the thread wakes up, may cost one extra poll each
//     round but are never lost).
//   * The waker handed to the future may be cloned, sent to any thread, and
//     woken any number of times, also after block_on has returned and after
//     the thread has exited: it then does nothing harmful (see below).
//   * Calling block_on inside a running task of any pollwake executor, or
//     inside another block_on, throws EnterError before polling anything.
//   * An exception thrown by the future's poll propagates to the caller; the
//     enter flag is restored first (the future is left as the exception left
//     it; an rvalue future is destroyed with block_on's frame).
//   * A call whose first poll is Ready allocates nothing.
//
// How pollwake differs, and why: futures-rs keeps an `Arc<ThreadNotify>` per
// thread and hands out `waker_ref` to it. pollwake does the same with its own
// intrusive count: the thread-local ThreadParker is allocated once, the first
// time a thread calls block_on, and reference-counted. The thread holds one
// reference until it exits; every cloned waker holds one more. So a stray
// waker that wakes after the thread has gone finds a live (orphaned) parker,
// sets its flag and returns; the last waker frees it. The waker passed to the
// future is borrowed (no count change), as `waker_ref` is in Rust.
//
// An lvalue future is polled in place (Rust: `block_on(&mut fut)`, allowed
// there for Unpin futures); an rvalue is moved into block_on's frame first.
#ifndef POLLWAKE_EXECUTOR_BLOCK_ON_H_
#define POLLWAKE_EXECUTOR_BLOCK_ON_H_

#include <atomic>
#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

#include "executor/enter.h"
#include "executor/parker.h"
#include "executor/record/hooks.h"
#include "poll/context.h"
#include "poll/future.h"
#include "poll/raw_waker.h"
#include "poll/wake.h"
#include "poll/waker.h"

namespace pollwake {
namespace detail {

// ThreadParker<S>: the per-thread, reference-counted parker behind
// block_on's waker. Its waker vtable is static: clone is one increment, wake
// is an unpark.
template <class Strategy>
class ThreadParker {
 public:
  // The calling thread's parker, created on first use (one allocation per
  // thread and strategy, never per call). The fast path is inline (a
  // constinit thread_local pointer: no TLS wrapper call); the first call on a
  // thread goes to create_current() in block_on.cc.
  static ThreadParker& current() {
    if (ThreadParker* p = tls_current_) [[likely]] return *p;
    return create_current();
  }

  // A borrowed waker (no reference taken): valid while this thread's
  // reference lives, i.e. for the whole block_on call.
  RawWaker raw() const noexcept { return RawWaker{this, &kVTable}; }
  // The same borrowed waker as a Waker, built once with the parker (so
  // block_on makes no Waker::from_raw call per call). Never destroyed: it
  // holds no reference of its own, as WakerRef's does not.
  const Waker& waker() const noexcept { return waker_; }
  Parker<Strategy>& parker() noexcept { return parker_; }

  // Drops one reference; the last one frees the parker.
  void release() noexcept {
    // ORDERING: acq_rel, as Arc's decrement: every thread's use of the
    // parker happens before the thread that frees it deletes it.
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

 private:
  template <class>
  friend struct ThreadParkerHolderT;
  ThreadParker() { new (&waker_) Waker(Waker::from_raw(raw())); }
  ~ThreadParker() {}  // waker_ is deliberately not destroyed (see waker())
  static ThreadParker& create_current();  // block_on.cc

  // This thread's parker once created; reset when the thread's holder goes.
  static inline constinit thread_local ThreadParker* tls_current_ = nullptr;

  // SAFETY (all four): `data` is a ThreadParker<Strategy>* on which the
  // caller owns (wake, drop) or borrows (clone, wake_by_ref) one reference,
  // so the object is alive for the duration of the call.
  static const ThreadParker* self(const void* data) noexcept {
    return static_cast<const ThreadParker*>(data);
  }
  static RawWaker clone(const void* data) noexcept {
    // ORDERING: relaxed; the caller's reference keeps the parker alive.
    self(data)->refs_.fetch_add(1, std::memory_order_relaxed);
    return RawWaker{data, &kVTable};
  }
  static void wake_by_ref(const void* data) {
    const_cast<ThreadParker*>(self(data))->parker_.unpark();
  }
  static void wake(const void* data) {
    auto* p = const_cast<ThreadParker*>(self(data));
    p->parker_.unpark();
    p->release();
  }
  static void drop(const void* data) noexcept {
    const_cast<ThreadParker*>(self(data))->release();
  }
  static constexpr RawWakerVTable kVTable{&clone, &wake, &wake_by_ref, &drop};

  mutable std::atomic<std::size_t> refs_{1};  // the thread's own reference
  Parker<Strategy> parker_;
  union {
    Waker waker_;  // borrowed: raw(), wrapped once
  };
};

}  // namespace detail

namespace detail {

// The loop is split in two. block_on_fast is what block_on of a ready future
// costs: a TLS check and store, a TLS load, a relaxed store and one poll; it
// is always_inline, because g++ would not inline the whole loop (park
// included) into a caller's loop, and the call, with its frame and the
// landing pad for the guard, was the largest part of that cost
// (docs/05_benchmarks.md). block_on_slow (park, poll, until Ready) runs only
// after a Pending, and stays out of line (noinline) so that the park does
// not count against inlining the fast path.
// [START block_on_loop]
template <class Strategy, class Fut>
[[gnu::noinline]] OutputOf<Fut> block_on_slow(Fut& f, Context& cx,
                                              ThreadParker<Strategy>& thread) {
  for (;;) {
    // Invariant: a wake that arrived during the last poll (or any time since
    // the last park) left the parker notified, so this park returns at once.
    thread.parker().park();
    Poll<OutputOf<Fut>> p = f.poll(cx);
    if (p.is_ready()) return std::move(p).value();
  }
}

template <class Strategy, class Fut>
[[gnu::always_inline]] inline OutputOf<Fut> block_on_fast(Fut& f) {
  Enter guard = enter();  // throws EnterError: no nesting, nothing polled
  auto& thread = ThreadParker<Strategy>::current();
  thread.parker().reset();  // stale wakes from an earlier call: forgotten
  Context cx = Context::from_waker(thread.waker());
  Poll<OutputOf<Fut>> p = f.poll(cx);  // the first poll, inline
  if (p.is_ready()) [[likely]] return std::move(p).value();
  return block_on_slow<Strategy>(f, cx, thread);
}
// [END block_on_loop]

}  // namespace detail

// block_on_with<Strategy>(future): block_on, sleeping with the given
// strategy (CondvarPark, FutexPark or SpinThenPark). The future is polled
// once at once, then after every park until Ready (detail::block_on_slow).
template <class Strategy, class F>
  requires Future<std::remove_cvref_t<F>>
[[gnu::always_inline]] inline OutputOf<std::remove_cvref_t<F>> block_on_with(F&& future) {
  using Fut = std::remove_cvref_t<F>;
  // The future to poll: the caller's own lvalue, or a local moved from the
  // caller's rvalue (never moved again once polled).
  if constexpr (std::is_lvalue_reference_v<F>) {
    return detail::block_on_fast<Strategy>(future);
  } else {
    Fut local(std::move(future));
    return detail::block_on_fast<Strategy>(local);
  }
}

// block_on(future): runs `future` to completion on this thread with the
// fastest park strategy (DefaultPark, measured in bench/).
template <class F>
  requires Future<std::remove_cvref_t<F>>
[[gnu::always_inline]] inline OutputOf<std::remove_cvref_t<F>> block_on(F&& future POLLWAKE_RECORD_WHERE) {
  POLLWAKE_RECORD_RUN(nullptr, block_on, future);
  return block_on_with<DefaultPark>(std::forward<F>(future));
}

}  // namespace pollwake

#endif  // POLLWAKE_EXECUTOR_BLOCK_ON_H_
