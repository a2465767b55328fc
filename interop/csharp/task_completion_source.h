// interop/csharp/task_completion_source.h
//
// Models C#'s `TaskCompletionSource<TResult>`: a Task that code completes by
// hand (from a callback, another thread, an event), the C# counterpart of a
// oneshot channel's sender.
//
//   C#                                                   pollwake::csharp
//   new TaskCompletionSource<T>()                        TaskCompletionSource<T>()
//   new TaskCompletionSource<T>(                         TaskCompletionSource<T>(
//     TaskCreationOptions.RunContinuationsAsynchronously)  TaskCreationOptions::RunContinuationsAsynchronously)
//   tcs.Task                                             tcs.Task()
//   tcs.SetResult(v) / SetException(e)                   same (throw InvalidOperationException if already completed)
//   tcs.TrySetResult(v) / TrySetException(e)             same (return false if already completed)
//   SetException(null) / TrySetException(null)           throw ArgumentNullException; the task is untouched
//
// Members are named in PascalCase, as C# names them, because these model C#
// items, not Rust ones.
//
// Where continuations run: by default SetResult runs the continuations of
// the task's awaiters inline, on the calling thread, before it returns
// (unless an awaiter captured a SynchronizationContext other than the
// caller's, which gets a Post). With RunContinuationsAsynchronously nothing
// runs inline: captured contexts get a Post, the others go to the ThreadPool.
// A TaskCompletionSource<void> (C#: the non-generic one of .NET 5, or
// TaskCompletionSource<object>) completes with SetResult().
//
// Copies share one source (C# references). May be used from any thread.
//
// Its promises, and the tests that check them, are written once in
// docs/guarantees.md ("The C# model and the bridge").
#ifndef POLLWAKE_INTEROP_CSHARP_TASK_COMPLETION_SOURCE_H_
#define POLLWAKE_INTEROP_CSHARP_TASK_COMPLETION_SOURCE_H_

#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "interop/csharp/task.h"

namespace pollwake::csharp {

// ArgumentNullException: C#'s exception of that name; SetException and
// TrySetException throw it for a null exception pointer (C# for a null
// Exception), before touching the task.
class ArgumentNullException : public std::invalid_argument {
 public:
  explicit ArgumentNullException(const char* param)
      : std::invalid_argument(std::string("Value cannot be null. (Parameter '") + param + "')") {}
};

enum class TaskCreationOptions {
  None,
  RunContinuationsAsynchronously,
};

template <class T = void>
class TaskCompletionSource {
 public:
  explicit TaskCompletionSource(TaskCreationOptions options = TaskCreationOptions::None)
      : state_(std::make_shared<detail::TaskState<T>>(
            options == TaskCreationOptions::RunContinuationsAsynchronously)) {}

  // Copies share one source; a move copies too, so a source is never empty.
  TaskCompletionSource(const TaskCompletionSource&) = default;
  TaskCompletionSource& operator=(const TaskCompletionSource&) = default;

  // TaskCompletionSource.Task: the task this source completes.
  csharp::Task<T> Task() const { return csharp::Task<T>(state_); }

  template <class U>
    requires(!std::is_void_v<T>)
  bool TrySetResult(U&& v) {
    return state_->TrySetResult(std::forward<U>(v));
  }
  bool TrySetResult()
    requires std::is_void_v<T>
  {
    return state_->TrySetResult(Unit{});
  }
  bool TrySetException(std::exception_ptr e) {
    if (!e) throw ArgumentNullException("exception");
    return state_->TrySetException(std::move(e));
  }

  template <class U>
    requires(!std::is_void_v<T>)
  void SetResult(U&& v) {
    if (!TrySetResult(std::forward<U>(v))) already_completed();
  }
  void SetResult()
    requires std::is_void_v<T>
  {
    if (!TrySetResult()) already_completed();
  }
  void SetException(std::exception_ptr e) {
    if (!TrySetException(std::move(e))) already_completed();
  }

 private:
  [[noreturn]] static void already_completed() {
    throw InvalidOperationException(
        "An attempt was made to transition a task to a final state when it had already completed.");
  }
  std::shared_ptr<detail::TaskState<T>> state_;  // never null
};

}  // namespace pollwake::csharp

#endif  // POLLWAKE_INTEROP_CSHARP_TASK_COMPLETION_SOURCE_H_
