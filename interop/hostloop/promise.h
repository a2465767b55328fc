// interop/hostloop/promise.h
//
// Models the `Promise` of the ocaml-lwt-interop design: a Rust Future that the
// host (OCaml's Lwt) creates, hands to a task, and later resolves or rejects;
// the task awaits it. pollwake splits it into its two ends, as futures-rs's
// oneshot channel does:
//
//   ocaml-lwt-interop (Rust)           pollwake
//   Promise::new()                     auto [promise, resolver] = make_promise<T>(on_cancel)
//   promise.await -> Result<T, E>      co_await promise -> absl::StatusOr<T>
//   promise.resolve(v) (OCaml side)    resolver.resolve(v)           -> bool
//   promise.reject(e)  (OCaml side)    resolver.reject(status)       -> bool
//
// What the caller may rely on:
//   * Promise<T> is a pollwake Future with Output absl::StatusOr<T>. Polling
//     it stores the waker of the latest poll; resolving or rejecting wakes it.
//     Polling again after Ready throws FuturePolledAfterCompletion.
//   * resolve / reject may be called from any thread, the host's or another.
//     The first settlement wins; later ones return false and change nothing.
//     reject needs a non-OK Status (an OK one throws std::invalid_argument).
//   * Cancellation: dropping the Promise (the awaiting side, e.g. because its
//     task was dropped by HostExecutor::shutdown) before it was settled calls
//     `on_cancel` once, on the dropping thread, so the host can stop the work
//     (Lwt.cancel, uv_timer_stop). A later resolve/reject returns false.
//     Not called when the Promise was settled first.
//   * Dropping the Resolver unsettled rejects the Promise with kCancelled
//     ("Resolver dropped"), so an awaiting task is never stranded (futures-rs:
//     a dropped oneshot Sender makes the Receiver return Canceled).
//   * Resolver::is_awaited(): true once the Promise returned Pending and is
//     still unsettled (a host or a test may wait for that before settling).
//
// How pollwake differs, and why: the Rust Promise is one object shared by
// both languages behind an OCaml custom block; in C++ two ends make "who may
// do what" a matter of types: only the Resolver settles, only the Promise is
// awaited, and each end's destructor has one defined meaning (above).
//
// Memory ordering: one std::mutex per promise (not absl::Mutex, for the
// ThreadSanitizer reason given in host_executor.h) guards the result, the stored
// waker and the flags; the wake is called after the lock is released (a
// waker may run arbitrary code, e.g. the executor's notify hook).
#ifndef POLLWAKE_INTEROP_HOSTLOOP_PROMISE_H_
#define POLLWAKE_INTEROP_HOSTLOOP_PROMISE_H_

#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "poll/arc.h"
#include "poll/context.h"
#include "poll/poll.h"
#include "poll/waker.h"

namespace pollwake::hostloop {

template <class T>
class Promise;
template <class T>
class Resolver;

namespace detail {

template <class T>
struct PromiseState {
  explicit PromiseState(std::function<void()> on_cancel) : on_cancel(std::move(on_cancel)) {}

  std::mutex mu;
  std::optional<absl::StatusOr<T>> result;  // guarded by mu
  bool settled = false;   // resolve/reject happened (guarded by mu)
  bool canceled = false;  // the Promise was dropped unsettled (guarded by mu)
  bool awaited = false;   // a poll returned Pending (guarded by mu)
  Waker waker = Waker::noop();  // noop until the first poll (guarded by mu)
  std::function<void()> on_cancel;  // guarded by mu

  // Settles once; wakes the awaiting task outside the lock.
  bool settle(absl::StatusOr<T> value) {
    Waker to_wake = Waker::noop();
    std::function<void()> unused;  // destroyed outside the lock, like the waker
    {
      std::lock_guard<std::mutex> lock(mu);
      if (settled || canceled) return false;
      settled = true;
      result.emplace(std::move(value));
      unused = std::move(on_cancel);  // the work is done: nothing left to cancel
      on_cancel = nullptr;
      to_wake = std::move(waker);
    }
    std::move(to_wake).wake();
    return true;
  }
};

}  // namespace detail

// [START hostloop_promise]
template <class T>
class [[nodiscard]] Promise {
 public:
  using Output = absl::StatusOr<T>;

  Promise(Promise&&) noexcept = default;
  Promise& operator=(Promise&&) = delete;
  Promise(const Promise&) = delete;

  Poll<Output> poll(Context& cx) {
    if (done_ || !state_) throw FuturePolledAfterCompletion("hostloop::Promise");
    std::lock_guard<std::mutex> lock(state_->mu);
    if (state_->result.has_value()) {
      done_ = true;
      Output out = std::move(*state_->result);
      state_->result.reset();
      return Ready(std::move(out));
    }
    state_->waker.clone_from(cx.waker());  // only the latest poll's waker counts
    state_->awaited = true;
    return Pending;
  }

  // ~Promise: unsettled -> on_cancel runs here, once (see the header).
  ~Promise() {
    if (!state_) return;  // moved from
    std::function<void()> cancel;
    Waker stale = Waker::noop();  // dropped outside the lock; breaks the task -> promise -> task cycle
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      stale = std::move(state_->waker);
      if (!state_->settled) {
        state_->canceled = true;
        cancel = std::move(state_->on_cancel);
      }
    }
    if (cancel) cancel();
  }
  // [END hostloop_promise]

 private:
  template <class U>
  friend std::pair<Promise<U>, Resolver<U>> make_promise(std::function<void()>);
  explicit Promise(Arc<detail::PromiseState<T>> s) : state_(std::move(s)) {}
  Arc<detail::PromiseState<T>> state_;
  bool done_ = false;
};

template <class T>
class Resolver {
 public:
  Resolver(Resolver&&) noexcept = default;
  Resolver& operator=(Resolver&&) = delete;
  Resolver(const Resolver&) = delete;
  // ~Resolver: unsettled -> the Promise is rejected with kCancelled.
  ~Resolver() {
    if (state_) state_->settle(absl::CancelledError("Resolver dropped"));
  }

  // Resolver::resolve: any thread. False if already settled or canceled.
  bool resolve(T value) { return live().settle(std::move(value)); }
  // Resolver::reject: any thread; `error` must not be OK.
  bool reject(absl::Status error) {
    if (error.ok()) throw std::invalid_argument("Resolver::reject: an OK status");
    return live().settle(std::move(error));
  }
  // Resolver::is_awaited: the Promise returned Pending and is unsettled.
  bool is_awaited() const {
    std::lock_guard<std::mutex> lock(live().mu);
    return live().awaited && !live().settled && !live().canceled;
  }
  // Resolver::is_canceled: the Promise was dropped before it was settled.
  bool is_canceled() const {
    std::lock_guard<std::mutex> lock(live().mu);
    return live().canceled;
  }

 private:
  template <class U>
  friend std::pair<Promise<U>, Resolver<U>> make_promise(std::function<void()>);
  explicit Resolver(Arc<detail::PromiseState<T>> s) : state_(std::move(s)) {}
  detail::PromiseState<T>& live() const {
    if (!state_) throw std::logic_error("Resolver: used after move");
    return *state_;
  }
  Arc<detail::PromiseState<T>> state_;
};

// make_promise: a new unsettled promise and its resolver. `on_cancel` (may be
// empty) runs if the Promise is dropped before it is settled.
template <class T>
std::pair<Promise<T>, Resolver<T>> make_promise(std::function<void()> on_cancel = nullptr) {
  auto state = Arc<detail::PromiseState<T>>::make(std::move(on_cancel));
  return {Promise<T>(state), Resolver<T>(state)};
}

}  // namespace pollwake::hostloop

#endif  // POLLWAKE_INTEROP_HOSTLOOP_PROMISE_H_
