// interop/csharp/when.h
//
// Models C#'s `Task.WhenAll` and `Task.WhenAny`: a task that completes when
// all (any) of the given tasks have.
//
//   C#                                        pollwake::csharp
//   Task.WhenAll(t1, t2, ...) : Task<T[]>     WhenAll(t1, t2, ...)  -> Task<std::vector<T>>
//   Task.WhenAll(IEnumerable<Task<T>>)        WhenAll(std::vector<Task<T>>)
//   Task.WhenAll(Task...) : Task              WhenAll(Task<>...)    -> Task<>
//   Task.WhenAny(t1, t2, ...) : Task<Task<T>> WhenAny(t1, t2, ...)  -> Task<Task<T>>
//
// What a reader may rely on (C#'s rules):
//   * WhenAll waits for every task, also after one has failed: it never
//     completes early and cancels nothing (compare Rust's try_join, which
//     returns at the first Err and drops the rest, and JavaScript's
//     Promise.all, which rejects at the first rejection but cannot stop the
//     others either).
//   * Its result lists the values in the order of the arguments, whatever
//     order they completed in.
//   * If any task faulted, the WhenAll task faults with an AggregateException
//     holding the inner exceptions of the faulted tasks, in argument order
//     (C#'s Task.Exception of the WhenAll task). Else, if any was canceled,
//     it is canceled (here: faulted with OperationCanceledException, see
//     cancellation.h).
//   * WhenAny completes, with the first task to complete, as soon as one
//     does; it never faults (the winner may have: inspect it).
//   * Both complete inline on the thread that completes the last (first)
//     task, so their awaiters' continuations run there too (C#: with no
//     SynchronizationContext captured). With no tasks, WhenAll is complete at
//     once (an empty result); WhenAny of none throws std::invalid_argument
//     (C#: ArgumentException).
//
// How pollwake differs, and why: C#'s `await Task.WhenAll(...)` rethrows
// only the first inner exception (await unwraps), while `.Wait()` throws the
// AggregateException. Here the WhenAll task's one stored exception is the
// AggregateException itself, so `co_await` and GetResult() both rethrow the
// AggregateException (what C#'s `.Wait()`/`.Result` throw); take
// InnerExceptions()[0] for what C#'s `await` would throw.
#ifndef POLLWAKE_INTEROP_CSHARP_WHEN_H_
#define POLLWAKE_INTEROP_CSHARP_WHEN_H_

#include <cstddef>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "interop/csharp/aggregate_exception.h"
#include "interop/csharp/cancellation.h"
#include "interop/csharp/task.h"
#include "interop/csharp/task_completion_source.h"

namespace pollwake::csharp {

namespace detail {

// The outcome of a completed task: its exception, or null (and its value,
// through `store`). Never blocks: the task has completed.
template <class T, class Store>
std::exception_ptr TakeOutcome(const Task<T>& t, Store&& store) {
  try {
    if constexpr (std::is_void_v<T>) {
      t.GetResult();
    } else {
      store(t.GetResult());
    }
  } catch (...) {
    return std::current_exception();
  }
  return nullptr;
}

inline bool IsCancellation(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const OperationCanceledException&) {
    return true;
  } catch (...) {
    return false;
  }
}

// WhenAllState: the count of unfinished tasks and, per argument, its value
// or exception. Shared by the continuations of all the tasks.
template <class T>
struct WhenAllState {
  using Slot = std::optional<typename Stored<T>::type>;
  explicit WhenAllState(std::size_t n) : values(n), errors(n), remaining(n) {}

  std::mutex mu;
  std::vector<Slot> values;                 // guarded by mu
  std::vector<std::exception_ptr> errors;   // guarded by mu
  std::size_t remaining;                    // guarded by mu
  TaskCompletionSource<std::conditional_t<std::is_void_v<T>, void, std::vector<T>>> tcs;

  // Completes the WhenAll task; called once, by the last continuation, with
  // no lock held (its continuations run inline here).
  void Finish() {
    std::vector<std::exception_ptr> faults;
    bool canceled = false;
    for (std::exception_ptr& e : errors) {
      if (e == nullptr) continue;
      if (IsCancellation(e)) {
        canceled = true;
      } else {
        faults.push_back(e);
      }
    }
    if (!faults.empty()) {
      tcs.SetException(std::make_exception_ptr(AggregateException(std::move(faults))));
    } else if (canceled) {
      tcs.SetException(std::make_exception_ptr(OperationCanceledException()));
    } else if constexpr (std::is_void_v<T>) {
      tcs.SetResult();
    } else {
      std::vector<T> out;
      out.reserve(values.size());
      for (Slot& v : values) out.push_back(std::move(*v));
      tcs.SetResult(std::move(out));
    }
  }
};

}  // namespace detail

// WhenAll(tasks): see the rules at the top of this file.
template <class T>
auto WhenAll(std::vector<Task<T>> tasks) {
  auto state = std::make_shared<detail::WhenAllState<T>>(tasks.size());
  auto result = state->tcs.Task();
  if (tasks.empty()) {
    state->Finish();
    return result;
  }
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    Task<T> t = tasks[i];
    // continueOnCapturedContext = false: run on the completing thread, as
    // C#'s WhenAll does, whatever context the caller has.
    t.OnCompleted(
        [state, t, i] {
          bool last = false;
          {
            std::lock_guard<std::mutex> lock(state->mu);
            state->errors[i] = detail::TakeOutcome(t, [&](auto&& v) { state->values[i].emplace(std::move(v)); });
            last = --state->remaining == 0;
          }
          if (last) state->Finish();
        },
        false);
  }
  return result;
}

template <class T, class... Ts>
  requires(std::is_same_v<Task<T>, Ts> && ...)
auto WhenAll(Task<T> first, Ts... rest) {
  return WhenAll(std::vector<Task<T>>{std::move(first), std::move(rest)...});
}

// WhenAny(tasks): a task whose result is the first of `tasks` to complete.
template <class T>
Task<Task<T>> WhenAny(std::vector<Task<T>> tasks) {
  if (tasks.empty()) throw std::invalid_argument("WhenAny: the tasks argument contains no tasks.");
  // The continuations reach the tasks through `shared`, which the winner
  // empties: a loser that never completes then holds no reference to itself
  // (a continuation holding its own task would be a cycle of shared_ptrs).
  struct Shared {
    std::mutex mu;
    std::vector<Task<T>> tasks;  // guarded by mu; emptied by the winner
  };
  auto shared = std::make_shared<Shared>();
  shared->tasks = tasks;
  TaskCompletionSource<Task<T>> tcs;
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    tasks[i].OnCompleted(
        [shared, tcs, i]() mutable {
          std::optional<Task<T>> winner;
          {
            std::lock_guard<std::mutex> lock(shared->mu);
            if (shared->tasks.empty()) return;  // another task won
            winner.emplace(shared->tasks[i]);
            shared->tasks.clear();
          }
          (void)tcs.TrySetResult(*winner);
        },
        false);
  }
  return tcs.Task();
}

template <class T, class... Ts>
  requires(std::is_same_v<Task<T>, Ts> && ...)
Task<Task<T>> WhenAny(Task<T> first, Ts... rest) {
  return WhenAny(std::vector<Task<T>>{std::move(first), std::move(rest)...});
}

}  // namespace pollwake::csharp

#endif  // POLLWAKE_INTEROP_CSHARP_WHEN_H_
