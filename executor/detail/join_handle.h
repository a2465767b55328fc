// executor/detail/join_handle.h
//
// Models the handle half of futures-rs's `RemoteHandle<T>`: a future that
// owns a reference to its task and yields what the task left in the join
// slot (executor/detail/join_slot.h).
//
// How pollwake differs, and why: one class template serves both pools'
// handles (RemoteHandle<T> for LocalPool, ThreadPoolHandle<T> for
// ThreadPool derive from it and add only their names and, for RemoteHandle,
// forget()). What differs between the pools is in `Ops` (JoinOps below,
// plus the names):
//   typename Ops::Task               the task header the handle references
//   typename Ops::template Slot<T>   a JoinSlot<T> (or one derived from it)
//   Ops::kName, Ops::kCanceled       the handle's name and TaskCanceled's text
//   Ops::release(task)               gives back the handle's reference
//   Ops::drop(task, slot)            the handle goes unawaited: cancel
//                                    (LocalPool) or detach (ThreadPool), then
//                                    release; why they differ is said once,
//                                    in docs/guarantees.md ("Task handles").
#ifndef POLLWAKE_EXECUTOR_DETAIL_JOIN_HANDLE_H_
#define POLLWAKE_EXECUTOR_DETAIL_JOIN_HANDLE_H_

#include <optional>
#include <utility>

#include "executor/detail/join_slot.h"
#include "poll/context.h"
#include "poll/poll.h"

namespace pollwake::detail {

// JoinOps: the Ops of a handle that detaches its task when dropped; a pool
// whose handles cancel instead derives from it and hides drop().
template <class TaskT, void (*Release)(TaskT*) noexcept,
          template <class> class SlotT = JoinSlot>
struct JoinOps {
  using Task = TaskT;
  template <class T>
  using Slot = SlotT<T>;
  static void release(Task* task) noexcept { Release(task); }
  template <class T>
  static void drop(Task* task, Slot<T>*) noexcept {
    Release(task);  // detach: the task runs on; its output goes with it
  }
};

template <class T, class Ops>
class JoinHandle {
 public:
  using Output = T;
  using Task = typename Ops::Task;
  using Slot = typename Ops::template Slot<T>;

  JoinHandle(JoinHandle&& other) noexcept
      : task_(std::exchange(other.task_, nullptr)), slot_(other.slot_) {}
  JoinHandle& operator=(JoinHandle&& other) noexcept {
    if (this != &other) {
      drop();
      task_ = std::exchange(other.task_, nullptr);
      slot_ = other.slot_;
    }
    return *this;
  }
  JoinHandle(const JoinHandle&) = delete;
  JoinHandle& operator=(const JoinHandle&) = delete;
  ~JoinHandle() { drop(); }

  // Ready(output) once the task has finished; rethrows its exception;
  // throws TaskCanceled for a task destroyed unfinished. Polling again after
  // any of these throws FuturePolledAfterCompletion.
  Poll<T> poll(Context& cx) {
    if (task_ == nullptr) polled_after_completion(Ops::kName);
    std::optional<typename JoinSlot<T>::Outcome> out = slot_->take(cx.waker());
    if (!out) return Pending;
    Ops::release(std::exchange(task_, nullptr));  // done with the task, whatever the outcome
    return Ready(std::move(*out).get(Ops::kName, Ops::kCanceled));
  }

 protected:
  JoinHandle(Task* task, Slot* slot) noexcept : task_(task), slot_(slot) {}

  // Lets the task run on without the handle; its output is dropped with it.
  void detach() noexcept {
    if (task_ == nullptr) return;
    slot_->drop_waker();
    Ops::release(std::exchange(task_, nullptr));
  }

 private:
  void drop() noexcept {
    if (task_ == nullptr) return;
    slot_->drop_waker();
    Ops::drop(std::exchange(task_, nullptr), slot_);
  }

  Task* task_;  // one reference; nullptr once taken, detached or moved from
  Slot* slot_;  // inside *task_
};

}  // namespace pollwake::detail

#endif  // POLLWAKE_EXECUTOR_DETAIL_JOIN_HANDLE_H_
