// interop/csharp/task.h
//
// Models C#'s `System.Threading.Tasks.Task` / `Task<TResult>` and `async`
// methods: eager work whose result arrives later, on C++20 coroutines.
//
//   C#                                        pollwake::csharp
//   async Task<int> F() { ... return v; }     Task<int> F() { ... co_return v; }
//   async Task G() { ... }                    Task<> G() { ... co_return; }
//   await t                                   co_await t
//   await t.ConfigureAwait(false)             co_await t.ConfigureAwait(false)
//   t.IsCompleted / IsFaulted                 t.IsCompleted() / t.IsFaulted()
//   t.Wait(), t.Wait(timeout)                 same
//   t.GetAwaiter().GetResult()                t.GetResult()
//   t.GetAwaiter().OnCompleted(action)        t.OnCompleted(action, continueOnCapturedContext)
//   Task.FromResult(v), Task.CompletedTask    Task<T>::FromResult(v), Task<>::CompletedTask()
//
// Members are named in PascalCase, as C# names them, because these model C#
// items, not Rust ones. Compare interop/coro/async_fn.h, the lazy Rust side.
//
// What a reader may rely on (C#'s rules):
//   * Eager: calling F() runs its body at once, on the caller's thread, until
//     it finishes or reaches `co_await` on a task that is not complete; only
//     then does F() return its Task. (initial_suspend is suspend_never.)
//   * Awaiting a task that is already complete does not suspend: the body
//     goes on synchronously on the same thread.
//   * Otherwise the continuation goes where synchronization_context.h says:
//     to the captured SynchronizationContext if there is one (Post), else
//     inline on the thread that completes the awaited task. ConfigureAwait
//     (false) skips the capture.
//   * A task's own continuations run inline on the thread that finishes the
//     body (C#'s async-method builder completes its task synchronously).
//   * An exception that leaves the body faults the task; `co_await`,
//     GetResult() rethrow the same exception (C#'s `await` and
//     GetAwaiter().GetResult() rethrow the first inner exception as it was).
//     Wait() and Wait(timeout) on a faulted task throw AggregateException
//     (below) holding that exception, as C#'s Task.Wait does: C# wraps there
//     because Wait is the blocking API that may report several faults, and a
//     caller that catches AggregateException must keep working when ported.
//     Task.Result is not modelled. A fault nobody observes is dropped
//     silently, as in .NET 4.5 and later.
//   * A Task is a handle: copies share one task, as C# references do, and
//     moving one copies it, so a handle is never empty. It can be awaited any
//     number of times, from any threads; each await gets a copy of the result
//     (so T must be copyable).
//   * There is no way to cancel a running task from outside: C# passes a
//     CancellationToken that the body checks. Dropping every Task handle does
//     not stop the body (compare: dropping an Async destroys its frame).
//
// How pollwake differs, and why: C# has a garbage collector; here the body's
// coroutine frame owns itself until the body finishes, then frees itself. A
// body that awaits something that never completes keeps its frame forever
// (a leak the leak checker reports), where C# would collect it.
//
// Memory ordering: the task state is guarded by a mutex; completion stores
// the result under it and then sets `completed_` with release, so a thread
// that sees IsCompleted() true (acquire) also sees the result.
//
// Its promises, and the tests that check them, are written once in
// docs/guarantees.md ("The C# model and the bridge").
#ifndef POLLWAKE_INTEROP_CSHARP_TASK_H_
#define POLLWAKE_INTEROP_CSHARP_TASK_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <coroutine>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "interop/coro/frame_stats.h"
#include "interop/csharp/aggregate_exception.h"
#include "interop/csharp/synchronization_context.h"
#include "interop/csharp/thread_pool.h"
#include "poll/poll.h"

namespace pollwake::csharp {

// InvalidOperationException: C#'s exception of that name, e.g. completing a
// TaskCompletionSource twice.
class InvalidOperationException : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

// AggregateException (aggregate_exception.h) is what Task.Wait() throws for a
// faulted task.

template <class T = void>
class Task;

namespace detail {

// Stored<T>: what a Task<T> keeps; Task<void> keeps a Unit.
template <class T>
struct Stored {
  using type = T;
};
template <>
struct Stored<void> {
  using type = Unit;
};

// Continuation: code to run when a task completes, and the context it
// captured (nullptr: none).
struct Continuation {
  std::function<void()> run;
  SynchronizationContext* context;
};

// Dispatch: the rule for where a continuation runs (see the header of
// synchronization_context.h). `inline_allowed` is false for a completion
// that asked for asynchronous continuations.
inline void Dispatch(Continuation c, bool inline_allowed) {
  if (c.context != nullptr) {
    if (inline_allowed && c.context == SynchronizationContext::Current()) {
      c.run();  // already on that context: C# runs it inline
    } else {
      c.context->Post(std::move(c.run));
    }
  } else if (inline_allowed) {
    c.run();  // no context: on the completing thread
  } else {
    ThreadPool::QueueUserWorkItem(std::move(c.run));
  }
}

// TaskStateBase: completion, waiting and continuations, whatever T is.
class TaskStateBase {
 public:
  explicit TaskStateBase(bool run_continuations_asynchronously)
      : run_async_(run_continuations_asynchronously) {}
  TaskStateBase(const TaskStateBase&) = delete;
  TaskStateBase& operator=(const TaskStateBase&) = delete;

  bool IsCompleted() const noexcept {
    // ORDERING: acquire pairs with the release in TryComplete: a caller that
    // sees true also sees the result or the exception.
    return completed_.load(std::memory_order_acquire);
  }
  bool IsFaulted() const noexcept { return IsCompleted() && error_ != nullptr; }

  // Adds `c` unless the task has completed; returns false (and drops
  // nothing: `c` is left untouched) if it has, so the caller continues itself.
  bool TryAddContinuation(Continuation& c) {
    std::lock_guard<std::mutex> lock(mu_);
    if (done_) return false;
    continuations_.push_back(std::move(c));
    return true;
  }

  // Blocks until completed. Does not look at the outcome: GetResult
  // rethrows it, Task::Wait wraps it.
  void Wait() const {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return done_; });
  }
  bool WaitFor(std::chrono::milliseconds timeout) const {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [this] { return done_; });
  }
  // Task.Wait's outcome check: a faulted task throws AggregateException.
  // Called after Wait/WaitFor saw done_, so error_ is read-only by now.
  void ThrowIfFaulted() const {
    if (error_) throw AggregateException(std::vector<std::exception_ptr>{error_});
  }

 protected:
  // TryComplete: runs `store` (which writes the outcome) under the lock,
  // once; then runs the continuations on this thread, outside the lock,
  // according to Dispatch. Returns false if already completed.
  template <class Store>
  bool TryComplete(Store&& store) {
    std::vector<Continuation> ready;
    const bool run_async_copy = run_async_;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (done_) return false;
      store();
      done_ = true;
      // ORDERING: release, so that IsCompleted() readers see what store() wrote.
      completed_.store(true, std::memory_order_release);
      ready.swap(continuations_);
      // Notified under the lock: a waiter may free the state as soon as it
      // can see done_.
      cv_.notify_all();
    }
    // From here on `this` is not touched: a continuation may drop the last
    // handle to this task (or to the source that is completing it).
    const bool inline_allowed = !run_async_copy;
    for (Continuation& c : ready) Dispatch(std::move(c), inline_allowed);
    return true;
  }

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool done_ = false;                        // written under mu_
  std::atomic<bool> completed_{false};       // mirrors done_ for lock-free IsCompleted
  std::exception_ptr error_;                 // written under mu_ before done_; then read-only
  std::vector<Continuation> continuations_;  // written under mu_
  const bool run_async_;
};

template <class T>
class TaskState final : public TaskStateBase {
 public:
  using Value = typename Stored<T>::type;
  using TaskStateBase::TaskStateBase;

  template <class U>
  bool TrySetResult(U&& v) {
    return TryComplete([&] { value_.emplace(std::forward<U>(v)); });
  }
  // `e` must not be null (TaskCompletionSource checks it: a null one would
  // complete the task as successful with no value).
  bool TrySetException(std::exception_ptr e) {
    return TryComplete([&] { error_ = std::move(e); });
  }
  // The outcome of a completed task: a copy of the value, or the exception
  // rethrown. The caller has seen IsCompleted() or waited.
  Value Get() const {
    if (error_) std::rethrow_exception(error_);
    return *value_;
  }

 private:
  std::optional<Value> value_;  // written under mu_ before done_; then read-only
};

// TaskAwaiter: what `co_await task` (capture = true) and
// `co_await task.ConfigureAwait(false)` (capture = false) become.
template <class T>
class TaskAwaiter {
 public:
  TaskAwaiter(std::shared_ptr<TaskState<T>> state, bool capture)
      : state_(std::move(state)), capture_(capture) {}

  bool await_ready() const noexcept { return state_->IsCompleted(); }  // complete: no suspension
  bool await_suspend(std::coroutine_handle<> awaiting) {
    Continuation c{[awaiting] { awaiting.resume(); },
                   capture_ ? SynchronizationContext::CaptureForAwait() : nullptr};
    // Once this returns true another thread may already be resuming
    // `awaiting`; nothing of this awaiter is touched after it.
    return state_->TryAddContinuation(c);  // false: completed meanwhile, go on at once
  }
  auto await_resume() const {
    if constexpr (std::is_void_v<T>) {
      (void)state_->Get();
    } else {
      return state_->Get();
    }
  }

 private:
  std::shared_ptr<TaskState<T>> state_;
  bool capture_;
};

template <class T>
struct TaskPromiseBase : pollwake::coro::detail::CountedFrame {
  std::shared_ptr<TaskState<T>> state = std::make_shared<TaskState<T>>(false);
  std::optional<typename Stored<T>::type> value;
  std::exception_ptr error;

  std::suspend_never initial_suspend() noexcept { return {}; }  // eager: the body runs now

  // At the end of the body (its locals already destroyed) the task
  // completes: its continuations run inline here, on this thread, and then
  // the frame frees itself (await_ready true: no suspension).
  struct FinalAwaiter {
    TaskPromiseBase* promise;
    bool await_ready() noexcept {
      if (promise->error) {
        promise->state->TrySetException(promise->error);
      } else {
        promise->state->TrySetResult(std::move(*promise->value));
      }
      return true;
    }
    void await_suspend(std::coroutine_handle<>) noexcept {}
    void await_resume() noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return FinalAwaiter{this}; }
  void unhandled_exception() noexcept { error = std::current_exception(); }
};

template <class T>
struct TaskPromise : TaskPromiseBase<T> {
  Task<T> get_return_object();
  template <class U>
    requires std::is_constructible_v<T, U&&>
  void return_value(U&& v) {
    this->value.emplace(std::forward<U>(v));
  }
};

template <>
struct TaskPromise<void> : TaskPromiseBase<void> {
  Task<void> get_return_object();
  void return_void() { value.emplace(); }
};

}  // namespace detail

// ConfiguredTaskAwaitable: C#'s type of `t.ConfigureAwait(b)`.
template <class T>
class ConfiguredTaskAwaitable {
 public:
  ConfiguredTaskAwaitable(std::shared_ptr<detail::TaskState<T>> state, bool capture)
      : state_(std::move(state)), capture_(capture) {}
  detail::TaskAwaiter<T> operator co_await() const { return {state_, capture_}; }

 private:
  std::shared_ptr<detail::TaskState<T>> state_;
  bool capture_;
};

template <class T>
class Task {
 public:
  using promise_type = detail::TaskPromise<T>;
  using Value = typename detail::Stored<T>::type;

  // Task.FromResult(v): a task that is already complete.
  template <class U>
    requires(!std::is_void_v<T>)
  static Task FromResult(U&& v) {
    auto state = std::make_shared<detail::TaskState<T>>(false);
    state->TrySetResult(std::forward<U>(v));
    return Task(std::move(state));
  }
  // Task.CompletedTask.
  static Task CompletedTask()
    requires std::is_void_v<T>
  {
    auto state = std::make_shared<detail::TaskState<T>>(false);
    state->TrySetResult(Unit{});
    return Task(std::move(state));
  }

  // Copying shares the task (C# reference semantics). There is no move
  // constructor on purpose: a "move" copies, so no Task handle is ever null
  // and every member is always safe to call.
  Task(const Task&) = default;
  Task& operator=(const Task&) = default;

  bool IsCompleted() const noexcept { return state_->IsCompleted(); }
  bool IsFaulted() const noexcept { return state_->IsFaulted(); }
  bool IsCompletedSuccessfully() const noexcept { return IsCompleted() && !IsFaulted(); }

  // Task.Wait(): blocks the calling thread until the task completes; throws
  // AggregateException (holding the fault) if it faulted, as C# does. As in
  // C#, calling it on the thread of the SynchronizationContext the task's
  // continuation needs deadlocks; a test should use Wait(timeout).
  void Wait() const {
    state_->Wait();
    state_->ThrowIfFaulted();
  }
  // Task.Wait(timeout): false if the task did not complete in time; throws
  // AggregateException if it completed faulted.
  bool Wait(std::chrono::milliseconds timeout) const {
    if (!state_->WaitFor(timeout)) return false;
    state_->ThrowIfFaulted();
    return true;
  }
  // GetAwaiter().GetResult(): waits, then returns the value or rethrows.
  Value GetResult() const {
    state_->Wait();
    return state_->Get();
  }

  // GetAwaiter().OnCompleted(action), with the capture rule of `await` (or
  // of ConfigureAwait(false) when continueOnCapturedContext is false): runs
  // `action` once the task completes. If it already has, `action` runs
  // inline now.
  void OnCompleted(std::function<void()> action, bool continueOnCapturedContext = true) const {
    detail::Continuation c{std::move(action),
                           continueOnCapturedContext ? SynchronizationContext::CaptureForAwait() : nullptr};
    if (!state_->TryAddContinuation(c)) c.run();
  }

  detail::TaskAwaiter<T> operator co_await() const { return {state_, true}; }
  // Task.ConfigureAwait(continueOnCapturedContext).
  ConfiguredTaskAwaitable<T> ConfigureAwait(bool continueOnCapturedContext) const {
    return {state_, continueOnCapturedContext};
  }

 private:
  template <class>
  friend struct detail::TaskPromise;
  template <class>
  friend class TaskCompletionSource;
  explicit Task(std::shared_ptr<detail::TaskState<T>> state) : state_(std::move(state)) {}

  std::shared_ptr<detail::TaskState<T>> state_;  // never null
};

namespace detail {
template <class T>
Task<T> TaskPromise<T>::get_return_object() {
  return Task<T>(this->state);
}
inline Task<void> TaskPromise<void>::get_return_object() { return Task<void>(state); }
}  // namespace detail

}  // namespace pollwake::csharp

#endif  // POLLWAKE_INTEROP_CSHARP_TASK_H_
