// executor/detail/join_slot.h
//
// Models the shared cell between futures-rs's `Remote` (the task side of
// `RemoteHandle`, futures-util/src/future/future/remote_handle.rs) and its
// handle: there a `oneshot::Sender<thread::Result<T>>` that the task fills
// once, with its output or its caught panic, and that the handle awaits.
//
// How pollwake differs, and why: one small struct instead of a oneshot
// channel, because both ends live inside the task's single allocation (the
// task owns the slot; the handle holds a reference to the task), and a
// cancelled task is a third outcome instead of a dropped sender. Both pools
// use this one slot under their handles (RemoteHandle for LocalPool,
// ThreadPoolHandle for ThreadPool), so the rules below hold for both:
//   * The first outcome counts: finish_value, finish_error or cancel from
//     kRunning; any later one is ignored (LocalPool calls cancel() when it
//     drops every future, finished or not).
//   * One exception rule: a task's exception is moved (never copied) into
//     the slot and rethrown by the handle's poll, exactly once; a task the
//     pool destroyed unfinished makes the handle throw TaskCanceled.
//   * The handle's latest waker is kept (LatestWaker) and woken after the
//     lock is released; a handle that goes away drops it, so a detached or
//     cancelled task does not keep the awaiting task alive.
// Promises: docs/guarantees.md, "Task handles".
//
// Guarded by an absl::Mutex (through poll/annotated_lock.h, so that TSan
// sees it): the slot is touched twice per task, and cloning the handle's
// waker needs a lock anyway; a lock-free slot would teach nothing new here.
//
// Lifetime: the slot (and its mutex) lives inside the task, freed with the
// task's last reference. absl::Mutex does not promise that Unlock() leaves
// the mutex alone once another thread can take it, so no thread may still
// be inside Unlock() when the last reference goes. None can be: the thread
// that fills the slot (finish_value, finish_error, cancel) holds the pool's
// reference to the task throughout, and gives it back only after the fill
// has returned (ThreadPool's finish(), LocalPool's release after the poll or
// after drop_future); the handle's thread gives back its own reference only
// after its take() or drop_waker() has returned. Whichever thread lets go
// last, the other has left Unlock() already.
#ifndef POLLWAKE_EXECUTOR_DETAIL_JOIN_SLOT_H_
#define POLLWAKE_EXECUTOR_DETAIL_JOIN_SLOT_H_

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "executor/task_canceled.h"
#include "poll/annotated_lock.h"
#include "poll/future.h"
#include "poll/latest_waker.h"
#include "poll/waker.h"

namespace pollwake::detail {

template <class T>
class JoinSlot {
 public:
  enum class Status { kRunning, kFinished, kFailed, kCanceled, kTaken };

  // What the handle's poll takes out of the slot, once.
  class Outcome {
   public:
    // The task's output; rethrows the task's exception; throws TaskCanceled
    // (with `canceled` as its message) for a task destroyed unfinished.
    T get(const char* handle, const char* canceled) && {
      switch (status_) {
        case Status::kFinished:
          return std::move(*value_);
        case Status::kFailed:
          std::rethrow_exception(std::move(error_));
        case Status::kCanceled:
          throw TaskCanceled(canceled);
        case Status::kRunning:
        case Status::kTaken:
          break;
      }
      polled_after_completion(handle);
    }

   private:
    friend class JoinSlot;
    Outcome(Status s, std::optional<T> v, std::exception_ptr e) noexcept
        : status_(s), value_(std::move(v)), error_(std::move(e)) {}
    Status status_;
    std::optional<T> value_;
    std::exception_ptr error_;
  };

  // The task's side (the thread that finishes the task). finish_value may
  // throw only from T's move constructor, before anything has changed (the
  // caller then reports that exception with finish_error).
  void finish_value(T&& value) {
    TakenWaker to_wake;
    {
      MutexLock lock(&mu_);
      if (status_ != Status::kRunning) return;
      value_.emplace(std::move(value));
      status_ = Status::kFinished;
      to_wake = waker_.take();
    }
    std::move(to_wake).wake();  // after unlocking: a wake may run any code
  }
  // Moves `error` in: the finishing thread keeps no reference to it.
  void finish_error(std::exception_ptr&& error) noexcept {
    finish(Status::kFailed, std::move(error));
  }
  void cancel() noexcept { finish(Status::kCanceled, nullptr); }

  // [START take]
  // The handle's poll: the outcome once there is one (the slot is then
  // kTaken), else nothing, with `waker` kept as the latest to wake.
  std::optional<Outcome> take(const Waker& waker) {
    MutexLock lock(&mu_);
    if (status_ == Status::kRunning) {
      waker_.update(waker);
      return std::nullopt;
    }
    Outcome out(std::exchange(status_, Status::kTaken), std::exchange(value_, std::nullopt),
                std::exchange(error_, nullptr));
    return out;
  }
  // [END take]

  // The handle goes away: drops its waker (outside the lock).
  void drop_waker() noexcept {
    TakenWaker old;
    {
      MutexLock lock(&mu_);
      old = waker_.take();
    }
  }

 private:
  void finish(Status s, std::exception_ptr&& error) noexcept {
    TakenWaker to_wake;
    {
      MutexLock lock(&mu_);
      if (status_ != Status::kRunning) return;
      status_ = s;
      error_ = std::move(error);
      to_wake = waker_.take();
    }
    std::move(to_wake).wake();
  }

  absl::Mutex mu_;
  Status status_ ABSL_GUARDED_BY(mu_) = Status::kRunning;
  std::optional<T> value_ ABSL_GUARDED_BY(mu_);
  std::exception_ptr error_ ABSL_GUARDED_BY(mu_);
  LatestWaker waker_ ABSL_GUARDED_BY(mu_);
};

// A task without a handle has no slot (an empty member, no bytes).
struct NoJoinSlot {};
template <bool kHandle, class T, template <class> class Slot = JoinSlot>
using JoinSlotIf = std::conditional_t<kHandle, Slot<T>, NoJoinSlot>;

}  // namespace pollwake::detail

#endif  // POLLWAKE_EXECUTOR_DETAIL_JOIN_SLOT_H_
