// interop/csharp/cancellation.h
//
// Models C#'s cooperative cancellation: `CancellationTokenSource`,
// `CancellationToken`, `CancellationTokenRegistration` and
// `OperationCanceledException` (System.Threading).
//
//   C#                                        pollwake::csharp
//   var cts = new CancellationTokenSource()   CancellationTokenSource cts;
//   cts.Token                                 cts.Token()
//   cts.Cancel() / cts.Cancel(true)           cts.Cancel() / cts.Cancel(true)
//   cts.IsCancellationRequested               same, as a member function
//   CancellationToken.None                    CancellationToken::None() (or CancellationToken())
//   token.IsCancellationRequested             token.IsCancellationRequested()
//   token.CanBeCanceled                       token.CanBeCanceled()
//   token.ThrowIfCancellationRequested()      same
//   token.Register(() => ...)                 token.Register([] { ... })
//   registration.Dispose()                    registration.Dispose()
//   tcs.TrySetCanceled() / SetCanceled()      TrySetCanceled(tcs) / SetCanceled(tcs)
//   task.IsCanceled                           IsCanceled(task)
//
// What a reader may rely on (C#'s rules):
//   * Cancellation is a request. Cancel() sets the flag and then runs the
//     registered callbacks synchronously, on the calling thread, newest
//     first (LIFO), before it returns; a second Cancel() does nothing. Code
//     that was handed the token notices only where it looks: a callback, a
//     poll of IsCancellationRequested, ThrowIfCancellationRequested. Nothing
//     is interrupted. (Compare Rust, where the owner cancels by dropping the
//     future: the frame's destructors run, and nothing after the `.await`.)
//   * Register on a token that is already canceled runs the callback at once,
//     on the registering thread, before Register returns. On
//     CancellationToken::None it does nothing (the callback never runs).
//   * A callback that throws: Cancel() (throwOnFirstException = false) still
//     runs every other callback, then throws an AggregateException holding
//     the exceptions in the order they were thrown; Cancel(true) lets the
//     first one propagate at once and runs no further callback.
//   * Dispose() of a registration whose callback has not run removes it (it
//     never runs). If the callback is running on another thread, Dispose()
//     waits until it has returned, so after Dispose() the callback's captures
//     may be destroyed; called from inside the callback itself it returns at
//     once (waiting would deadlock). Dispose() is idempotent.
//   * ThrowIfCancellationRequested throws OperationCanceledException, whose
//     CancellationToken() is the token.
//
// How pollwake differs, and why: a canceled Task is modelled as a task
// faulted with OperationCanceledException (task.h has one fault state), so
// IsFaulted() is true where C#'s IsFaulted is false and IsCanceled true;
// IsCanceled(task) below tells the two apart, except that a task faulted
// on purpose with an OperationCanceledException (C#:
// tcs.SetException(new OperationCanceledException()), which C# reports as
// Faulted) also counts as canceled here. C#'s `await` on a canceled task
// throws TaskCanceledException (a subclass of OperationCanceledException)
// and its `.Wait()`/`.Result` throw an AggregateException wrapping it; here
// co_await and GetResult() both throw the OperationCanceledException
// itself. CancellationTokenSource.Dispose,
// CancelAfter and linked sources are not modelled. The state is guarded by
// std::mutex, as the rest of interop/csharp/ does.
#ifndef POLLWAKE_INTEROP_CSHARP_CANCELLATION_H_
#define POLLWAKE_INTEROP_CSHARP_CANCELLATION_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "interop/csharp/aggregate_exception.h"
#include "interop/csharp/task.h"
#include "interop/csharp/task_completion_source.h"

namespace pollwake::csharp {

namespace detail {

// CancellationState: what a source and its tokens share.
class CancellationState {
 public:
  bool IsCancellationRequested() const noexcept {
    // ORDERING: acquire pairs with the release store in Cancel: a thread that
    // sees the request also sees what the canceling thread wrote before
    // Cancel() (C# gives a volatile read here).
    return canceled_.load(std::memory_order_acquire);
  }

  // Adds `callback`; returns its id, or 0 if the source was already canceled,
  // in which case `callback` has run (here, before returning).
  std::uint64_t Register(std::function<void()> callback) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!cancel_started_) {
        const std::uint64_t id = ++next_id_;
        callbacks_.push_back({id, std::move(callback)});
        return id;
      }
    }
    callback();
    return 0;
  }

  // Removes callback `id` if it has not started; if it is running on another
  // thread, waits until it has returned.
  void Unregister(std::uint64_t id) {
    std::unique_lock<std::mutex> lock(mu_);
    for (auto it = callbacks_.begin(); it != callbacks_.end(); ++it) {
      if (it->id == id) {
        callbacks_.erase(it);
        return;
      }
    }
    if (running_id_ == id && running_thread_ != std::this_thread::get_id()) {
      done_cv_.wait(lock, [&] { return running_id_ != id; });
    }
  }

  void Cancel(bool throw_on_first_exception) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (cancel_started_) return;
      cancel_started_ = true;
      running_thread_ = std::this_thread::get_id();
      // ORDERING: release, so IsCancellationRequested() readers (acquire) see
      // what this thread wrote before Cancel().
      canceled_.store(true, std::memory_order_release);
    }
    std::vector<std::exception_ptr> errors;
    for (;;) {
      Callback next;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (callbacks_.empty()) break;
        next = std::move(callbacks_.back());  // LIFO, as C# runs them
        callbacks_.pop_back();
        running_id_ = next.id;
      }
      std::exception_ptr error;
      try {
        next.run();
      } catch (...) {
        error = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        running_id_ = 0;
      }
      done_cv_.notify_all();
      if (error) {
        if (throw_on_first_exception) std::rethrow_exception(error);
        errors.push_back(std::move(error));
      }
    }
    if (!errors.empty()) throw AggregateException(std::move(errors));
  }

 private:
  struct Callback {
    std::uint64_t id = 0;
    std::function<void()> run;
  };
  mutable std::mutex mu_;
  std::condition_variable done_cv_;
  std::atomic<bool> canceled_{false};
  bool cancel_started_ = false;        // guarded by mu_
  std::uint64_t next_id_ = 0;          // guarded by mu_
  std::vector<Callback> callbacks_;    // guarded by mu_; oldest first
  std::uint64_t running_id_ = 0;       // guarded by mu_; 0: none running
  std::thread::id running_thread_;     // guarded by mu_; the canceling thread
};

}  // namespace detail

class CancellationTokenRegistration;

// CancellationToken: a copyable view of a source (C#: a struct holding a
// reference to it). Default-constructed, it is CancellationToken.None.
class CancellationToken {
 public:
  CancellationToken() = default;
  static CancellationToken None() { return CancellationToken(); }

  bool IsCancellationRequested() const noexcept { return state_ != nullptr && state_->IsCancellationRequested(); }
  bool CanBeCanceled() const noexcept { return state_ != nullptr; }

  // Throws OperationCanceledException (defined below) if cancellation was requested.
  void ThrowIfCancellationRequested() const;

  // Runs `callback` when cancellation is requested (at once if it already
  // was). See the rules at the top of this file.
  CancellationTokenRegistration Register(std::function<void()> callback) const;

  friend bool operator==(const CancellationToken& a, const CancellationToken& b) noexcept {
    return a.state_ == b.state_;
  }

 private:
  friend class CancellationTokenSource;
  explicit CancellationToken(std::shared_ptr<detail::CancellationState> state) : state_(std::move(state)) {}
  std::shared_ptr<detail::CancellationState> state_;  // null: None
};

// OperationCanceledException: what ThrowIfCancellationRequested throws and
// what a canceled task rethrows when awaited.
class OperationCanceledException : public std::runtime_error {
 public:
  explicit OperationCanceledException(csharp::CancellationToken token = csharp::CancellationToken::None())
      : std::runtime_error("The operation was canceled."), token_(std::move(token)) {}
  const csharp::CancellationToken& CancellationToken() const noexcept { return token_; }

 private:
  csharp::CancellationToken token_;
};

inline void CancellationToken::ThrowIfCancellationRequested() const {
  if (IsCancellationRequested()) throw OperationCanceledException(*this);
}

// CancellationTokenRegistration: the handle Register returns. Copies refer to
// the same registration (C#: a struct); Dispose() on any of them unregisters.
class CancellationTokenRegistration {
 public:
  CancellationTokenRegistration() = default;  // registers nothing
  void Dispose() {
    if (state_ != nullptr && id_ != 0) state_->Unregister(id_);
  }

 private:
  friend class CancellationToken;
  CancellationTokenRegistration(std::shared_ptr<detail::CancellationState> state, std::uint64_t id)
      : state_(std::move(state)), id_(id) {}
  std::shared_ptr<detail::CancellationState> state_;
  std::uint64_t id_ = 0;  // 0: the callback already ran inside Register, or None
};

inline CancellationTokenRegistration CancellationToken::Register(std::function<void()> callback) const {
  if (state_ == nullptr) return {};
  const std::uint64_t id = state_->Register(std::move(callback));
  return CancellationTokenRegistration(state_, id);
}

// CancellationTokenSource: owns the cancellation request. Copies share one
// source (C# references).
class CancellationTokenSource {
 public:
  CancellationTokenSource() : state_(std::make_shared<detail::CancellationState>()) {}

  csharp::CancellationToken Token() const { return csharp::CancellationToken(state_); }
  bool IsCancellationRequested() const noexcept { return state_->IsCancellationRequested(); }
  // Cancel(throwOnFirstException = false): see the rules at the top.
  void Cancel(bool throwOnFirstException = false) { state_->Cancel(throwOnFirstException); }

 private:
  std::shared_ptr<detail::CancellationState> state_;  // never null
};

// TaskCompletionSource.TrySetCanceled(token) / SetCanceled(): completes the
// task as canceled (here: faulted with OperationCanceledException).
template <class T>
bool TrySetCanceled(TaskCompletionSource<T>& tcs, CancellationToken token = CancellationToken::None()) {
  return tcs.TrySetException(std::make_exception_ptr(OperationCanceledException(std::move(token))));
}
template <class T>
void SetCanceled(TaskCompletionSource<T>& tcs, CancellationToken token = CancellationToken::None()) {
  if (!TrySetCanceled(tcs, std::move(token))) {
    throw InvalidOperationException(
        "An attempt was made to transition a task to a final state when it had already completed.");
  }
}

// Task.IsCanceled: completed with OperationCanceledException. Never blocks.
template <class T>
bool IsCanceled(const Task<T>& task) {
  if (!task.IsFaulted()) return false;
  try {
    (void)task.GetResult();  // complete: returns at once
  } catch (const OperationCanceledException&) {
    return true;
  } catch (...) {
  }
  return false;
}

}  // namespace pollwake::csharp

#endif  // POLLWAKE_INTEROP_CSHARP_CANCELLATION_H_
