// executor/detail/local_task.h
//
// Models async-task's RawTask (async-task/src/raw.rs) for LocalPool: one
// allocation per task holding a header (state bits, reference count,
// vtable, queue link) followed by the future, and the wake and release
// operations a task's waker runs. futures-rs's LocalPool keeps its tasks in
// a FuturesUnordered, whose `Task` node (futures-util/src/stream/
// futures_unordered/task.rs) plays the same part.
//
// How pollwake differs, and why: the header also links the task into the
// pool's list of live tasks, so that dropping the pool destroys every
// unfinished future on its own thread; and blocks come from the pool's
// TaskBlockCache (executor/detail/block_cache.h) when spawned and freed on
// the pool's thread. Its parallel for ThreadPool is
// executor/detail/pool_task.h; the wake path itself is local_task.cc.
#ifndef POLLWAKE_EXECUTOR_DETAIL_LOCAL_TASK_H_
#define POLLWAKE_EXECUTOR_DETAIL_LOCAL_TASK_H_

#include <atomic>
#include <cstdint>
#include <exception>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "executor/detail/block_cache.h"
#include "executor/detail/join_handle.h"
#include "executor/detail/join_slot.h"
#include "poll/context.h"
#include "poll/future.h"
#include "poll/poll.h"
#include "poll/raw_waker.h"

namespace pollwake {

class LocalPool;

namespace detail {

class LocalPoolShared;
struct LocalTaskHeader;

struct LocalTaskVTable {
  // Polls the future once; true when the task is finished (Ready, or, for a
  // handle task, threw or was cancelled). May throw (plain tasks only).
  bool (*poll)(LocalTaskHeader* task, Context& cx);
  // Destroys the future (exactly once, on the pool's thread).
  void (*drop_future)(LocalTaskHeader* task) noexcept;
  // Frees the allocation (after the last reference, on any thread): into
  // `cache` when given (the pool's own, on its thread), else operator delete.
  void (*dealloc)(LocalTaskHeader* task, TaskBlockCache* cache) noexcept;
};

// The part of every task the pool and the wakers see. State bits:
//   kScheduled  the task is in a ready queue (local or remote). Set by the
//               wake that queues it (only if clear), cleared by the pool
//               just before it polls the task. Legal with kDone: a wake that
//               raced completion; the pool then discards the entry.
//   kDone       the future is gone (finished, threw, cancelled, or the pool
//               was dropped). Set once, by the pool's thread; never cleared.
//               Wakes of a done task do nothing.
// References (refs): one held by the pool while the future is alive, one by
// each queue entry, one by each waker clone, one by a RemoteHandle. The last
// one frees the allocation.
struct LocalTaskHeader {
  static constexpr std::uint32_t kScheduled = 1;
  static constexpr std::uint32_t kDone = 2;

  std::atomic<std::uint32_t> state{kScheduled};  // spawned = queued
  std::atomic<std::uint32_t> refs{2};            // the pool + the queue
  const LocalTaskVTable* vtable = nullptr;
  LocalPoolShared* shared = nullptr;   // holds one reference on it
  LocalTaskHeader* next = nullptr;     // queue link; owned by whoever set kScheduled
  LocalTaskHeader* all_prev = nullptr; // the pool's list of live tasks
  LocalTaskHeader* all_next = nullptr; //   (pool thread only)
};

// The wake and release operations (local_task.cc).
// Queue the task if it is neither queued nor done. `owned`: a wake by
// value, whose caller hands over one reference: it becomes the queue
// entry's if this wake queues the task, and is dropped if it does not.
void local_task_wake(LocalTaskHeader* task, bool owned) noexcept;
// A waker's wake_by_ref, and its wake (by value).
inline void local_task_wake_by_ref(LocalTaskHeader* task) noexcept { local_task_wake(task, false); }
inline void local_task_wake_owned(LocalTaskHeader* task) noexcept { local_task_wake(task, true); }
// Drop `n` references; the last one frees the task.
void local_task_release_n(LocalTaskHeader* task, std::uint32_t n) noexcept;
// Drop one reference (a waker's drop, a handle's release).
inline void local_task_release(LocalTaskHeader* task) noexcept { local_task_release_n(task, 1); }
// A waker for `task` that borrows the caller's reference (the pool's poll).
RawWaker local_task_waker_ref(LocalTaskHeader* task) noexcept;
// The pool running on this thread (inside one of its run* calls), so that a
// wake here can go straight onto its local queue. Written only by this
// thread (LocalPool's run scope).
extern thread_local LocalPool* local_pool_running;

// A handle task's join slot, plus the flag by which a dropped RemoteHandle
// cancels its task (read before each poll, on the pool's thread).
template <class T>
struct LocalJoinSlot : JoinSlot<T> {
  std::atomic<bool> handle_dropped{false};
};

// LocalTask<F, kHandle>: the one allocation per task, from the pool's
// block cache.
template <class F, bool kHandle>
struct LocalTask final : LocalTaskHeader {
  using Out = OutputOf<F>;

  template <class G>
  explicit LocalTask(G&& g) : future(std::forward<G>(g)) {
    vtable = &kVTable;
  }
  ~LocalTask() {}  // the future was destroyed by drop_future

  // SAFETY (the three below): `task` points at a LocalTask<F, kHandle>: the
  // vtable is chosen by the same type that allocated it, so the static_cast
  // from the header (its base class) is exact.
  static bool poll(LocalTaskHeader* task, Context& cx) {
    auto* self = static_cast<LocalTask*>(task);
    if constexpr (kHandle) {
      // A dropped handle cancels the task: finish without polling.
      // ORDERING: acquire, pairs with the handle's release store.
      if (self->slot.handle_dropped.load(std::memory_order_acquire)) return true;
      // The future's poll may throw: the exception is the task's, for the
      // handle to rethrow (the one reachable catch on this path).
      try {
        Poll<Out> p = self->future.poll(cx);
        if (p.is_pending()) return false;
        self->slot.finish_value(std::move(p).value());
      } catch (...) {
        self->slot.finish_error(std::current_exception());
      }
      return true;
    } else {
      return self->future.poll(cx).is_ready();
    }
  }
  static void drop_future(LocalTaskHeader* task) noexcept {
    auto* self = static_cast<LocalTask*>(task);
    self->future.~F();
    // Unfinished (pool dropped): tell the handle. A no-op for a finished
    // task (the slot keeps its first outcome).
    if constexpr (kHandle) self->slot.cancel();
  }
  static void dealloc(LocalTaskHeader* task, TaskBlockCache* cache) noexcept {
    auto* self = static_cast<LocalTask*>(task);
    self->~LocalTask();
    TaskBlockCache::deallocate<LocalTask>(self, cache);
  }
  // Builds a task in a block from the pool's cache (see TaskBlockCache).
  template <class G>
  static LocalTask* create(TaskBlockCache& cache, G&& g) {
    void* mem = cache.allocate<LocalTask>();
    try {
      return ::new (mem) LocalTask(std::forward<G>(g));
    } catch (...) {
      TaskBlockCache::deallocate<LocalTask>(mem, &cache);
      throw;
    }
  }
  static constexpr LocalTaskVTable kVTable{&poll, &drop_future, &dealloc};

  union {
    F future;  // alive from construction until drop_future
  };
  [[no_unique_address]] JoinSlotIf<kHandle, Out, LocalJoinSlot> slot;
};

// What RemoteHandle's JoinHandle needs (executor/detail/join_handle.h).
struct LocalHandleOps : JoinOps<LocalTaskHeader, &local_task_release, LocalJoinSlot> {
  static constexpr const char* kName = "RemoteHandle";
  static constexpr const char* kCanceled =
      "RemoteHandle: the task was dropped before it finished (its LocalPool was dropped)";
  // Dropping the handle cancels the task (not JoinOps's detach): it is
  // woken so that the pool drops it promptly, unpolled (docs/guarantees.md,
  // "Task handles").
  template <class T>
  static void drop(LocalTaskHeader* task, LocalJoinSlot<T>* slot) noexcept {
    // ORDERING: release, pairs with the task's acquire load before its poll.
    slot->handle_dropped.store(true, std::memory_order_release);
    local_task_wake_owned(task);  // the handle's reference
  }
};

}  // namespace detail
}  // namespace pollwake

#endif  // POLLWAKE_EXECUTOR_DETAIL_LOCAL_TASK_H_
