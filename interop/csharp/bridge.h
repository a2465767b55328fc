// interop/csharp/bridge.h
//
// The two halves of a C#-to-Rust bridge (the LanceDB C# bridge pattern), in
// one language:
// C# code holds Tasks, Rust code holds futures, and each side must be able to
// wait for the other's work without blocking a thread.
//
//   1. A Rust future seen from C#:  spawn_as_task(spawn, future) -> csharp::Task<T>
//      The future is spawned on a pollwake executor (Rust: tokio::spawn in
//      that bridge); when it finishes, the task's TaskCompletionSource is
//      completed (there: the Rust task calls the C# completion callback,
//      and C# wraps it in a TaskCompletionSource).
//   2. A C# task seen from Rust:   task_future(task) -> TaskFuture<T>, a
//      pollwake Future. Polling it registers a continuation on the task
//      that wakes the waker of the latest poll (there: a oneshot whose
//      sender the C# callback fires).
//
// These are bridge functions on the Rust side, so they are snake_case;
// csharp::Task and TaskCompletionSource keep C#'s names.
//
// Rules a reader may rely on:
//   * spawn_as_task: the future starts only when the executor polls it (it
//     stays lazy); the Task completes with its output, or faults with the
//     exception its poll threw (C++'s panic becomes a faulted Task, as
//     async-ffi turns a panic into `Panicked`). If the executor drops the
//     future unfinished (e.g. the pool is destroyed), the Task faults with
//     TaskCanceledException instead of never completing. The source is
//     created with RunContinuationsAsynchronously by default, so C#
//     continuations never run inside a poll on an executor's thread (they go
//     to their captured context, or to csharp::ThreadPool); pass
//     TaskCreationOptions::None to run them inline, as plain SetResult would.
//   * TaskFuture: Ready(value) once the task has completed; a faulted task's
//     exception is rethrown from poll (a panic in Rust terms). The
//     continuation runs wherever the task completes (ConfigureAwait(false):
//     no context is captured) and only wakes a waker, which is safe on any
//     thread. Polled again after Ready: FuturePolledAfterCompletion.
//     Dropping it does not affect the task (C# tasks cannot be cancelled
//     from outside); a later completion wakes nothing.
//
// `spawn` is any callable that takes a pollwake future with Output = Unit
// and arranges for it to be polled: e.g. a lambda calling
// LocalSpawner::spawn_local or ThreadPool::spawn_ok. Overloads below accept
// the spawner or pool itself; they find spawn_local / spawn_ok by name, so
// this header does not include the executors.
//
// Its promises, and the tests that check them, are written once in
// docs/guarantees.md ("The C# model and the bridge").
#ifndef POLLWAKE_INTEROP_CSHARP_BRIDGE_H_
#define POLLWAKE_INTEROP_CSHARP_BRIDGE_H_

#include <concepts>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "interop/csharp/task.h"
#include "interop/csharp/task_completion_source.h"
#include "poll/context.h"
#include "poll/future.h"
#include "poll/latest_waker.h"
#include "poll/poll.h"
#include "poll/waker.h"

namespace pollwake::csharp {

// TaskCanceledException: C#'s exception of that name; here it faults a task
// whose future was dropped unfinished by its executor.
class TaskCanceledException : public std::runtime_error {
 public:
  TaskCanceledException() : std::runtime_error("A task was canceled.") {}
};

namespace detail {

// CompletingFuture<F>: polls F and completes a TaskCompletionSource with
// its outcome. What spawn_as_task spawns.
template <class F>
class CompletingFuture {
 public:
  using Output = Unit;
  using T = OutputOf<F>;

  CompletingFuture(F future, TaskCompletionSource<T> source)
      : future_(std::move(future)), source_(std::move(source)) {}
  CompletingFuture(CompletingFuture&& other) noexcept(std::is_nothrow_move_constructible_v<F>)
      : future_(std::move(other.future_)),
        source_(other.source_),
        finished_(std::exchange(other.finished_, true)) {}  // the moved-from one completes nothing
  CompletingFuture(const CompletingFuture&) = delete;
  CompletingFuture& operator=(const CompletingFuture&) = delete;
  CompletingFuture& operator=(CompletingFuture&&) = delete;

  // Dropped unfinished by its executor: the C# side must not wait forever.
  ~CompletingFuture() {
    if (!finished_) source_.TrySetException(std::make_exception_ptr(TaskCanceledException()));
  }

  Poll<Unit> poll(Context& cx) {
    if (finished_) polled_after_completion("spawn_as_task");
    try {
      Poll<T> p = future_.poll(cx);
      if (p.is_pending()) return Pending;
      finished_ = true;
      source_.SetResult(std::move(p).value());
    } catch (...) {
      finished_ = true;
      source_.TrySetException(std::current_exception());  // the panic faults the task
    }
    return Ready();
  }

 private:
  F future_;
  TaskCompletionSource<T> source_;
  bool finished_ = false;
};

// The state a TaskFuture shares with the continuation it registers.
struct TaskFutureSlot {
  std::mutex mu;
  LatestWaker waker;           // the waker of the latest poll, under mu
  bool fired = false;          // the continuation has run, under mu
};

}  // namespace detail

// spawn_as_task: see the header. Returns at once; nothing of `future` has
// run unless `spawn` polled it inline.
template <class Spawn, class F>
  requires Future<std::decay_t<F>> &&
           std::invocable<Spawn&&, detail::CompletingFuture<std::decay_t<F>>&&>
Task<OutputOf<std::decay_t<F>>> spawn_as_task(
    Spawn&& spawn, F&& future,
    TaskCreationOptions options = TaskCreationOptions::RunContinuationsAsynchronously) {
  using T = OutputOf<std::decay_t<F>>;
  TaskCompletionSource<T> source(options);
  Task<T> task = source.Task();
  std::forward<Spawn>(spawn)(detail::CompletingFuture<std::decay_t<F>>(std::forward<F>(future), source));
  return task;
}

// spawn_as_task on a LocalPool's spawner (pollwake::LocalSpawner: run the
// pool to make progress) or on anything else with spawn_local(future).
template <class Spawner, class F>
  requires Future<std::decay_t<F>> &&
           requires(const Spawner& s, detail::CompletingFuture<std::decay_t<F>>&& f) {
             s.spawn_local(std::move(f));
           }
auto spawn_as_task(const Spawner& spawner, F&& future,
                   TaskCreationOptions options = TaskCreationOptions::RunContinuationsAsynchronously) {
  return spawn_as_task([&spawner](auto&& f) { spawner.spawn_local(std::move(f)); },
                       std::forward<F>(future), options);
}

// spawn_as_task on a pollwake::ThreadPool, or anything with spawn_ok(future).
template <class Pool, class F>
  requires Future<std::decay_t<F>> &&
           requires(const Pool& p, detail::CompletingFuture<std::decay_t<F>>&& f) {
             p.spawn_ok(std::move(f));
           }
auto spawn_as_task(const Pool& pool, F&& future,
                   TaskCreationOptions options = TaskCreationOptions::RunContinuationsAsynchronously) {
  return spawn_as_task([&pool](auto&& f) { pool.spawn_ok(std::move(f)); }, std::forward<F>(future),
                       options);
}

// TaskFuture<T>: a C# task as a pollwake future (see the header).
template <class T>
class TaskFuture {
 public:
  using Output = typename detail::Stored<T>::type;

  explicit TaskFuture(Task<T> task)
      : task_(std::move(task)), slot_(std::make_shared<detail::TaskFutureSlot>()) {}
  TaskFuture(TaskFuture&&) noexcept = default;
  TaskFuture& operator=(TaskFuture&&) noexcept = default;
  ~TaskFuture() {
    if (!slot_) return;
    TakenWaker forgotten;  // a later completion wakes nothing; dropped after unlocking
    std::lock_guard<std::mutex> lock(slot_->mu);
    forgotten = slot_->waker.take();
  }

  Poll<Output> poll(Context& cx) {
    if (done_ || !slot_) polled_after_completion("TaskFuture");
    if (!task_.IsCompleted()) {
      {
        std::lock_guard<std::mutex> lock(slot_->mu);
        if (!slot_->fired) {
          // The continuation has not run, so it will run later and wake
          // this waker: it reads slot_->waker under the same lock.
          slot_->waker.update(cx.waker());
        }
      }
      if (!registered_) {
        registered_ = true;
        // If the task completed since IsCompleted() above, this runs the
        // continuation inline now, which wakes the waker just stored.
        task_.OnCompleted(
            [slot = slot_] {
              TakenWaker to_wake;
              {
                std::lock_guard<std::mutex> lock(slot->mu);
                slot->fired = true;
                to_wake = slot->waker.take();
              }
              std::move(to_wake).wake();
            },
            /*continueOnCapturedContext=*/false);
      }
      if (!task_.IsCompleted()) return Pending;
    }
    done_ = true;
    return Ready(task_.GetResult());  // rethrows a faulted task's exception
  }

 private:
  Task<T> task_;
  std::shared_ptr<detail::TaskFutureSlot> slot_;  // null only when moved from
  bool registered_ = false;
  bool done_ = false;
};

// task_future: Rust-side name for building a TaskFuture.
template <class T>
TaskFuture<T> task_future(Task<T> task) {
  return TaskFuture<T>(std::move(task));
}

}  // namespace pollwake::csharp

#endif  // POLLWAKE_INTEROP_CSHARP_BRIDGE_H_
