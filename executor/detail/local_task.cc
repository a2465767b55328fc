// executor/detail/local_task.cc: the wake and release operations of a
// LocalPool task (executor/detail/local_task.h), which its waker's vtable
// (executor/detail/task_waker.h) calls.
// A wake on the pool's own thread during a run (or inside a
// LocalPool::WakeScope) pushes straight onto the pool's ready queue (no
// lock); any other wake goes through the remote stack
// (executor/detail/remote_stack.h) and unparks the pool.
#include "executor/detail/local_task.h"

#include "executor/detail/local_pool_shared.h"
#include "executor/detail/task_waker.h"
#include "executor/local_pool.h"

namespace pollwake {
namespace detail {

thread_local LocalPool* local_pool_running = nullptr;

namespace {
using LocalTaskWaker =
    TaskWaker<LocalTaskHeader, &local_task_wake_by_ref, &local_task_release, &local_task_wake_owned>;
}  // namespace

RawWaker local_task_waker_ref(LocalTaskHeader* task) noexcept {
  return LocalTaskWaker::borrow(task);
}

// [START wake_path]
void local_task_wake(LocalTaskHeader* task, bool owned) noexcept {
  // One read-modify-write, whatever the state (as async-task's wake and
  // FuturesUnordered's `queued.swap` do). A wake that finds the task already
  // queued must still synchronize with the poll that entry will cause: if it
  // only loaded the state and returned, its write of the event before the
  // wake (a store) and the pool's clearing of kScheduled before the poll
  // (an RMW, then loads of the event) would be the store-buffering pattern,
  // and that poll could read the old event while this wake read the old
  // state: the task would sleep with its event unseen. With an RMW, either
  // this one comes first in the state's modification order (the pool's
  // acquire fetch_and then reads its value and sees the event) or the pool's
  // comes first (kScheduled is clear and this wake queues the task).
  // ORDERING: acq_rel. Release: what the waker wrote before waking is seen
  // by the pool's acq_rel fetch_and before the poll (which reads this RMW's
  // value or a later one in its release sequence). Acquire: when this wake
  // queues the task, this thread now owns task->next (the pool is done
  // reading it).
  std::uint32_t state = task->state.fetch_or(LocalTaskHeader::kScheduled, std::memory_order_acq_rel);
  if (state & LocalTaskHeader::kDone) {  // finished: ignore (kScheduled on a done
                                         // task means nothing)
    if (owned) local_task_release(task);
    return;
  }
  if (state & LocalTaskHeader::kScheduled) {
    POLLWAKE_RECORD_ALREADY_QUEUED();
    // Already queued: coalesce (the queued entry will poll it). But if the
    // entry was queued by a self-wake and this wake comes from another task
    // of the running pool, the pass has made progress: without this,
    // run_until_stalled could stop with a task that someone else woke still
    // unpolled.
    LocalPool* running = local_pool_running;
    if (running != nullptr && running->shared_ == task->shared && task != running->current_) {
      running->progress_ = true;
    }
    // May be the last reference by now (a wake from another thread whose
    // entry the pool has already polled and released): release handles it.
    if (owned) local_task_release(task);
    return;
  }
  LocalPool* pool = local_pool_running;
  if (pool != nullptr && pool->shared_ == task->shared) {
    // Same thread, inside a run of this task's pool: no lock, no push CAS.
    if (task == pool->current_) {
      // A self-wake during its own poll: the queue's reference the poll
      // holds moves to the new entry (poll_task then does not release it).
      pool->self_requeued_ = true;
      // Not the last reference: the poll holds one.
      if (owned) local_task_release(task);
    } else {
      // The queue's reference: the caller's if it handed one over, else a
      // new one. SAFETY: our caller holds one: task is alive.
      if (!owned) task->refs.fetch_add(1, std::memory_order_relaxed);
      pool->progress_ = true;  // not a self-wake
    }
    pool->push_local(task);
  } else {
    // The queue's reference: a new one, even for a wake by value. Once the
    // task is pushed, the pool's thread may run it to completion and free
    // it, and with it the task's reference on task->shared, while
    // push_remote still unparks through task->shared: the waker's own
    // reference keeps both alive until then, and goes after.
    task->refs.fetch_add(1, std::memory_order_relaxed);
    task->shared->push_remote(task);
    if (owned) local_task_release(task);
  }
}
// [END wake_path]

void local_task_release_n(LocalTaskHeader* task, std::uint32_t n) noexcept {
  // ORDERING: acq_rel, as Arc's decrement: all uses of the task on any
  // thread happen before the thread that frees it does so.
  if (task->refs.fetch_sub(n, std::memory_order_acq_rel) != n) return;
  LocalPoolShared* shared = task->shared;
  LocalPool* pool = local_pool_running;
  if (pool != nullptr && pool->shared_ == shared) {
    pool->free_task(task);  // on the pool's thread, inside its run: recycle
  } else {
    task->vtable->dealloc(task, nullptr);  // elsewhere: operator delete
    shared->release();
  }
}

}  // namespace detail
}  // namespace pollwake
