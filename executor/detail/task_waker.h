// executor/detail/task_waker.h
//
// Models the RawWakerVTable an executor builds for its tasks (async-task's
// `RawTask::{clone_waker, wake, wake_by_ref, drop_waker}`, futures-rs's
// `ArcWake` impl for its Task): the waker's data is the task's header, and a
// waker owns one reference to the task.
//
// How pollwake differs, and why: one template serves both pools, which
// differ only in what a wake does and how a reference is given back
// (LocalPool: local_task_wake / local_task_release; ThreadPool:
// pool_task_wake / pool_task_release). The header's `refs` is the count.
#ifndef POLLWAKE_EXECUTOR_DETAIL_TASK_WAKER_H_
#define POLLWAKE_EXECUTOR_DETAIL_TASK_WAKER_H_

#include <atomic>

#include "poll/raw_waker.h"

namespace pollwake::detail {

// A wake by value made of the other two: wake, then give the reference back.
template <class Task, void (*Wake)(Task*) noexcept, void (*Release)(Task*) noexcept>
void wake_then_release(Task* task) noexcept {
  Wake(task);
  Release(task);  // wake consumes the waker's reference
}

// `WakeOwned` is the wake by value, which consumes the caller's reference.
// A pool may give its own, which hands that reference to the queue entry
// instead of adding one for the entry and dropping the waker's (async-task's
// `RawTask::wake` does the same); by default it is Wake then Release.
template <class Task, void (*Wake)(Task*) noexcept, void (*Release)(Task*) noexcept,
          void (*WakeOwned)(Task*) noexcept = &wake_then_release<Task, Wake, Release>>
class TaskWaker {
 public:
  // A waker that borrows the caller's reference (a pool's own poll, through
  // WakerRef): no count is touched unless the future clones it.
  static RawWaker borrow(Task* task) noexcept { return RawWaker{task, &kVTable}; }

 private:
  // SAFETY (all four): `data` is a Task* on which the caller owns (wake,
  // drop) or borrows (clone, wake_by_ref) one reference, so it is alive.
  static Task* task_of(const void* data) noexcept {
    return const_cast<Task*>(static_cast<const Task*>(data));
  }
  static RawWaker clone(const void* data) noexcept {
    // ORDERING: relaxed; the caller's reference keeps the task alive, and a
    // new reference is handed on only through synchronisation of its own.
    task_of(data)->refs.fetch_add(1, std::memory_order_relaxed);
    return RawWaker{data, &kVTable};
  }
  static void wake(const void* data) noexcept { WakeOwned(task_of(data)); }
  static void wake_by_ref(const void* data) noexcept { Wake(task_of(data)); }
  static void drop(const void* data) noexcept { Release(task_of(data)); }

  static constexpr RawWakerVTable kVTable{&clone, &wake, &wake_by_ref, &drop};
};

}  // namespace pollwake::detail

#endif  // POLLWAKE_EXECUTOR_DETAIL_TASK_WAKER_H_
