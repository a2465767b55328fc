// executor/detail/pool_task.h
//
// Models async-task's RawTask layout (a header, then the future and the
// output, in one allocation; a task's waker points at the header) for the
// tasks of ThreadPool, and their reference count (Rust: the Arc<Task> that
// futures-rs's ThreadPool wakers hold).
//
// How pollwake differs, and why: futures-rs allocates an Arc<Task> holding an
// UnparkMutex that holds a boxed future (three allocations' worth of
// indirection); here one `new PoolTask<F, kHandle>` holds the state word,
// the reference count, the future and, for spawn_with_handle, the join slot.
// Its parallel for LocalPool is executor/detail/local_task.h.
#ifndef POLLWAKE_EXECUTOR_DETAIL_POOL_TASK_H_
#define POLLWAKE_EXECUTOR_DETAIL_POOL_TASK_H_

#include <atomic>
#include <cstdint>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "executor/detail/join_handle.h"
#include "executor/detail/join_slot.h"
#include "executor/detail/pool_task_state.h"
#include "poll/context.h"
#include "poll/future.h"
#include "poll/poll.h"

namespace pollwake::detail {

struct PoolShared;
struct PoolTaskHeader;

// What the pool needs to know about a task's concrete type.
struct PoolTaskVTable {
  // Polls the future once; true when it returned Ready (the output is stored
  // and the future destroyed). May throw: the exception is the task's panic.
  bool (*poll)(PoolTaskHeader* task, Context& cx);
  // The poll threw: destroys the future and moves the exception out of
  // `error` into the join slot. Returns false (and leaves `error` alone)
  // when there is no handle: the pool reports it.
  bool (*fail)(PoolTaskHeader* task, std::exception_ptr& error) noexcept;
  // Shutdown: destroys the unfinished future; the handle will see TaskCanceled.
  void (*cancel)(PoolTaskHeader* task) noexcept;
  // Frees the allocation (header, future, output). Called once, by the last
  // reference.
  void (*destroy)(PoolTaskHeader* task) noexcept;
};

// PoolTaskHeader: the part of a task that the pool and the wakers touch.
struct PoolTaskHeader {
  explicit PoolTaskHeader(const PoolTaskVTable* vt, std::uint32_t initial_refs) noexcept
      : refs(initial_refs), vtable(vt) {}

  PoolTaskState state;  // the state machine, executor/detail/pool_task_state.h
  // Who owns a reference: the pool (while the task is unfinished), each
  // Waker clone, the ThreadPoolHandle. The last one frees the task.
  std::atomic<std::uint32_t> refs;
  const PoolTaskVTable* vtable;
  PoolShared* pool = nullptr;  // valid while the task is unfinished
  PoolTaskHeader* next = nullptr;  // run-queue link: touched only by the
                                   // thread that holds the task's POLLING
                                   // permission, or under the queue's lock
  // The registry of tasks waiting for a wake (so that shutdown can destroy
  // them). A task joins it the first time it returns Pending and leaves it
  // when it finishes; a task that is Ready at its first poll never joins.
  bool registered = false;  // touched only by the holder of POLLING
  std::uint32_t shard = 0;  // which registry shard, set when it joins
  PoolTaskHeader* reg_prev = nullptr;  // registry links: under the shard's lock
  PoolTaskHeader* reg_next = nullptr;
};

// Drops one reference; the last frees the task. Any thread.
inline void pool_task_release(PoolTaskHeader* task) noexcept {
  // ORDERING: acq_rel, as Arc's decrement: every use of the task happens
  // before the thread that drops the last reference frees it.
  if (task->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) task->vtable->destroy(task);
}

// Hands a new task (refs set) to the pool: queues it (thread_pool.cc).
void pool_spawn(PoolShared* pool, PoolTaskHeader* task);

// PoolTask<F, kHandle>: the one allocation per task.
template <class F, bool kHandle>
struct PoolTask final : PoolTaskHeader {
  using Out = OutputOf<F>;

  template <class G>
  explicit PoolTask(G&& g)
      // One reference for the pool, one for the handle if there is one.
      : PoolTaskHeader(&kVTable, kHandle ? 2u : 1u), future(std::in_place, std::forward<G>(g)) {}

  // SAFETY (all four): every PoolTaskHeader whose vtable is kVTable is the
  // first base of a PoolTask<F, kHandle>, so the downcast is exact.
  static PoolTask* self(PoolTaskHeader* h) noexcept { return static_cast<PoolTask*>(h); }

  static bool poll(PoolTaskHeader* h, Context& cx) {
    PoolTask* t = self(h);
    Poll<Out> p = t->future->poll(cx);
    if (p.is_pending()) return false;
    t->future.reset();  // finished: release what the future holds, now
    if constexpr (kHandle) t->slot.finish_value(std::move(p).value());
    return true;
  }
  static bool fail(PoolTaskHeader* h, std::exception_ptr& error) noexcept {
    PoolTask* t = self(h);
    t->future.reset();
    if constexpr (kHandle) {
      t->slot.finish_error(std::move(error));
      return true;
    } else {
      return false;
    }
  }
  static void cancel(PoolTaskHeader* h) noexcept {
    PoolTask* t = self(h);
    t->future.reset();
    if constexpr (kHandle) t->slot.cancel();
  }
  static void destroy(PoolTaskHeader* h) noexcept { delete self(h); }

  static constexpr PoolTaskVTable kVTable{&poll, &fail, &cancel, &destroy};

  std::optional<F> future;  // polled in place, never moved; empty once finished
  [[no_unique_address]] JoinSlotIf<kHandle, Out> slot;
};

// What ThreadPoolHandle's JoinHandle needs (executor/detail/join_handle.h).
// Dropping the handle detaches the task: JoinOps's drop (docs/guarantees.md,
// "Task handles").
struct PoolHandleOps : JoinOps<PoolTaskHeader, &pool_task_release> {
  static constexpr const char* kName = "ThreadPoolHandle";
  static constexpr const char* kCanceled =
      "ThreadPool task canceled: the pool shut down (its last handle was dropped) "
      "before the task finished";
};

}  // namespace pollwake::detail

#endif  // POLLWAKE_EXECUTOR_DETAIL_POOL_TASK_H_
