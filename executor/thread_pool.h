// executor/thread_pool.h
//
// Models futures-rs's `futures::executor::ThreadPool` and `ThreadPoolBuilder`:
// a fixed set of worker threads that poll spawned futures ("tasks") when they
// are woken. The task state machine is futures-rs's `UnparkMutex`
// (futures-executor/src/unpark_mutex.rs).
//
//   Rust (futures-executor)               pollwake
//   ThreadPool::new()?                    ThreadPool()   (one worker per core)
//   ThreadPool::builder()                 ThreadPool::builder() / ThreadPoolBuilder
//     .pool_size(n) .name_prefix(p)         same
//     .stack_size(bytes)                    same (pthread attribute)
//     .after_start(f) .before_stop(f)       same: f(size_t index)
//     .create()?                            create(), throws std::system_error
//   pool.clone()                          copy: another handle to the same pool
//   pool.spawn_ok(fut)                    spawn_ok(fut)
//   pool.spawn_with_handle(fut)?          spawn_with_handle(fut) -> ThreadPoolHandle<T>
//   (RemoteHandle<T>, a future)           ThreadPoolHandle<T>, a future
//
// What the caller may rely on:
//   * A task is polled only after it is spawned or woken, by one worker at a
//     time, never by two threads at once. Each wake is followed by at least
//     one poll while the pool runs and the task is unfinished; a wake that
//     arrives during a poll causes exactly one more poll; a wake that arrives
//     while the task already waits in a run queue is absorbed by the poll it
//     waits for; a wake after completion is ignored. (Task states: see
//     thread_pool.cc, "The task state machine".)
//   * A task's waker may be cloned, sent anywhere and woken from any thread,
//     also after the pool is gone: it then does nothing (the task is
//     COMPLETE), and the waker only keeps the task's small allocation alive.
//   * Copies of a ThreadPool are handles to one pool. When the last handle is
//     destroyed the pool shuts down: every worker finishes the poll it is in
//     and stops, and is joined; then every unfinished task (queued or waiting
//     for a wake that will never come) is destroyed, on the thread that
//     dropped the last handle. If that thread is one of the pool's own
//     workers (a task dropped the last handle), it joins the other workers,
//     cannot join itself, so it detaches its own thread and destroys the
//     unfinished tasks itself once its current poll has returned; before_stop
//     runs for it as for the others.
//   * An exception thrown by a task's poll does not kill its worker. With
//     spawn_with_handle it is re-raised to whoever polls the handle; with
//     spawn_ok it goes to the builder's panic_handler (default: one line on
//     stderr). Either way the task is finished and its future destroyed.
//   * A worker thread is inside an executor (executor/enter.h) while it runs
//     tasks, so block_on inside a task throws EnterError instead of
//     deadlocking the worker.
//
// How pollwake differs from futures-rs, and why:
//   * futures-rs lets a panicking task kill its worker for good (the pool
//     silently shrinks); pollwake catches the exception and reports it.
//   * futures-rs leaks tasks that are never woken (nothing references them
//     but their own wakers); pollwake keeps a registry of live tasks and
//     destroys them at shutdown, so their destructors run.
//   * futures-rs runs the tasks already queued when the last handle drops;
//     pollwake destroys them without polling them (as dropping a tokio
//     Runtime does), so shutdown is bounded even if tasks keep waking each
//     other. Await a task's handle before dropping the pool if you need it
//     to finish.
//   * futures-rs's workers are never joined; pollwake's are (except the one
//     that dropped the last handle, above).
//   * A wake during a poll queues the task again at the back of the run queue
//     instead of polling it again at once, so a task that always wakes itself
//     cannot starve the others on its worker.
//   * Dropping futures-rs's RemoteHandle cancels the task; dropping a
//     ThreadPoolHandle detaches it (the task runs on, its output is dropped),
//     as tokio's JoinHandle does: cancelling from another thread would need
//     one more task state. Awaiting the handle of a task that the pool
//     destroyed unfinished throws TaskCanceled (Rust's RemoteHandle panics).
//   * Instead of one mutex-protected channel for the whole pool, each worker
//     has its own run queue and takes one task at a time from its front; an
//     idle worker steals the front half of another's queue, and a sleeping
//     worker is woken only when no worker is awake and looking. A worker
//     that takes a task while work is left in any queue wakes another, so a
//     ready task never waits in a queue while a worker sleeps, and the tasks
//     one task spawns (onto its worker's queue) run in parallel.
//
// A teaching simplification: the number of workers is fixed; a production
// pool would also keep a LIFO slot for the task just woken, spin less on
// machines with few cores, and offer cancellation.
//
// A cycle to avoid (as with Rust's Arc): a task that holds a ThreadPool handle
// and is never woken keeps the pool alive forever.
#ifndef POLLWAKE_EXECUTOR_THREAD_POOL_H_
#define POLLWAKE_EXECUTOR_THREAD_POOL_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "executor/record/hooks.h"
#include "executor/task_canceled.h"
#include "poll/arc.h"
#include "poll/context.h"
#include "poll/future.h"
#include "poll/poll.h"
#include "poll/waker.h"

namespace pollwake {


namespace detail {

struct PoolShared;
struct TaskHeader;

// What the pool needs to know about a task's concrete type.
struct TaskVTable {
  // Polls the future once; true when it returned Ready (the output is stored
  // and the future destroyed). May throw: the exception is the task's panic.
  bool (*poll)(TaskHeader* task, Context& cx);
  // The poll threw: destroys the future and moves the exception out of
  // `error` into the handle. Returns false (and leaves `error` alone) when
  // there is no handle: the pool reports it.
  bool (*fail)(TaskHeader* task, std::exception_ptr& error) noexcept;
  // Shutdown: destroys the unfinished future; the handle will see TaskCanceled.
  void (*cancel)(TaskHeader* task) noexcept;
  // Frees the allocation (header, future, output). Called once, by the last
  // reference.
  void (*destroy)(TaskHeader* task) noexcept;
};

// TaskHeader: the part of a task that the pool and the wakers touch. It is
// the first base of the single allocation that also holds the future and the
// output (async-task's RawTask layout), and a task's waker points at it.
struct TaskHeader {
  explicit TaskHeader(const TaskVTable* vt, std::uint32_t initial_refs) noexcept
      : refs(initial_refs), vtable(vt) {}

  std::atomic<std::uint32_t> state{0};  // a TaskState, see thread_pool.cc
  // Who owns a reference: the pool (while the task is unfinished), each
  // Waker clone, the ThreadPoolHandle. The last one frees the task.
  std::atomic<std::uint32_t> refs;
  const TaskVTable* vtable;
  PoolShared* pool = nullptr;  // valid while the task is unfinished
  TaskHeader* next = nullptr;  // run-queue link: touched only by the thread
                               // that holds the task's POLLING permission, or
                               // under the queue's lock
  // The registry of tasks waiting for a wake (so that shutdown can destroy
  // them). A task joins it the first time it returns Pending and leaves it
  // when it finishes; a task that is Ready at its first poll never joins.
  bool registered = false;  // touched only by the holder of POLLING
  std::uint32_t shard = 0;  // which registry shard, set when it joins
  TaskHeader* reg_prev = nullptr;  // registry links: under the shard's lock
  TaskHeader* reg_next = nullptr;
};

// Drops one reference; the last frees the task.
void task_drop_ref(TaskHeader* task) noexcept;
// Hands a new task (state and refs set) to the pool: registers and queues it.
void pool_spawn(PoolShared* pool, TaskHeader* task);

// PoolHandleSlot<T>: where a task with a handle leaves its result, and where the
// handle leaves its waker. Guarded by `mu` (a plain mutex, not a lock-free
// slot: it is touched twice per task, and the waker clone needs it anyway).
template <class T>
struct PoolHandleSlot {
  enum class Status { kEmpty, kValue, kError, kCanceled, kTaken };
  std::mutex mu;
  Status status = Status::kEmpty;   // written under mu
  std::optional<T> value;           // written under mu
  std::exception_ptr error;         // written under mu
  std::optional<Waker> waker;       // the handle's latest waker, under mu

  // Stores an outcome and wakes the handle (outside the lock: a waker's wake
  // may run arbitrary code, even take this lock again).
  template <class Fill>
  void finish(Fill&& fill) noexcept {
    std::optional<Waker> to_wake;
    {
      std::lock_guard lock(mu);
      fill();
      to_wake.swap(waker);
    }
    if (to_wake) {
      try {
        std::move(*to_wake).wake();
      } catch (...) {
        // A waker that throws has broken its contract; the result is stored,
        // and the handle's next poll will still see it.
      }
    }
  }
};

struct PoolNoSlot {};

// TaskImpl<F, kHandle>: the one allocation per task.
template <class F, bool kHandle>
struct TaskImpl final : TaskHeader {
  using T = OutputOf<F>;
  using Slot = std::conditional_t<kHandle, PoolHandleSlot<T>, PoolNoSlot>;

  template <class G>
  explicit TaskImpl(G&& g)
      // One reference for the pool, one for the handle if there is one.
      : TaskHeader(&kVTable, kHandle ? 2u : 1u), future(std::in_place, std::forward<G>(g)) {}

  // SAFETY (all four): every TaskHeader whose vtable is kVTable is the first
  // base of a TaskImpl<F, kHandle>, so the downcast is exact.
  static TaskImpl* self(TaskHeader* h) noexcept { return static_cast<TaskImpl*>(h); }

  static bool poll(TaskHeader* h, Context& cx) {
    TaskImpl* t = self(h);
    Poll<T> p = t->future->poll(cx);
    if (p.is_pending()) return false;
    t->future.reset();  // finished: release what the future holds, now
    if constexpr (kHandle) {
      t->slot.finish([&] {
        t->slot.value.emplace(std::move(p).value());
        t->slot.status = PoolHandleSlot<T>::Status::kValue;
      });
    }
    return true;
  }
  static bool fail(TaskHeader* h, std::exception_ptr& error) noexcept {
    TaskImpl* t = self(h);
    t->future.reset();
    if constexpr (kHandle) {
      t->slot.finish([&] {
        t->slot.error = std::move(error);
        t->slot.status = PoolHandleSlot<T>::Status::kError;
      });
      return true;
    } else {
      return false;
    }
  }
  static void cancel(TaskHeader* h) noexcept {
    TaskImpl* t = self(h);
    t->future.reset();
    if constexpr (kHandle) {
      t->slot.finish([&] { t->slot.status = PoolHandleSlot<T>::Status::kCanceled; });
    }
  }
  static void destroy(TaskHeader* h) noexcept { delete self(h); }

  static constexpr TaskVTable kVTable{&poll, &fail, &cancel, &destroy};

  std::optional<F> future;  // polled in place, never moved; empty once finished
  [[no_unique_address]] Slot slot;
};

}  // namespace detail

// ThreadPoolHandle<T>: a future for the output of a task spawned with
// spawn_with_handle (Rust: RemoteHandle<T>). Ready(output) once the task has
// finished; re-throws the task's exception; throws TaskCanceled if the pool
// destroyed the task unfinished. May be polled from any thread (it is a
// future like any other: await it in another task, or block_on it). Polling
// it again after it returned (or threw) throws FuturePolledAfterCompletion.
// Destroying it detaches the task (see the header comment).
template <class T>
class ThreadPoolHandle {
 public:
  using Output = T;

  ThreadPoolHandle(ThreadPoolHandle&& other) noexcept
      : task_(std::exchange(other.task_, nullptr)), slot_(other.slot_) {}
  ThreadPoolHandle& operator=(ThreadPoolHandle&& other) noexcept {
    if (this != &other) {
      release();
      task_ = std::exchange(other.task_, nullptr);
      slot_ = other.slot_;
    }
    return *this;
  }
  ThreadPoolHandle(const ThreadPoolHandle&) = delete;
  ThreadPoolHandle& operator=(const ThreadPoolHandle&) = delete;
  ~ThreadPoolHandle() { release(); }

  Poll<T> poll(Context& cx) {
    using Status = typename detail::PoolHandleSlot<T>::Status;
    if (task_ == nullptr) polled_after_completion("ThreadPoolHandle");
    std::unique_lock lock(slot_->mu);
    switch (slot_->status) {
      case Status::kEmpty:
        // Pending: keep the waker of this poll (clone_from skips the clone
        // when it is the same waker as last time).
        if (slot_->waker) {
          slot_->waker->clone_from(cx.waker());
        } else {
          slot_->waker.emplace(cx.waker());
        }
        return Pending;
      case Status::kValue: {
        slot_->status = Status::kTaken;
        T value = std::move(*slot_->value);
        slot_->value.reset();
        lock.unlock();
        release();
        return Ready(std::move(value));
      }
      case Status::kError: {
        slot_->status = Status::kTaken;
        std::exception_ptr error = std::move(slot_->error);
        lock.unlock();
        release();
        std::rethrow_exception(error);
      }
      case Status::kCanceled:
        slot_->status = Status::kTaken;
        lock.unlock();
        release();
        throw TaskCanceled(
            "ThreadPool task canceled: the pool shut down (its last handle was dropped) "
            "before the task finished");
      case Status::kTaken:
        break;
    }
    polled_after_completion("ThreadPoolHandle");
  }

 private:
  friend class ThreadPool;
  ThreadPoolHandle(detail::TaskHeader* task, detail::PoolHandleSlot<T>* slot) noexcept
      : task_(task), slot_(slot) {}

  // Gives back the handle's reference; a stored waker is dropped now, so a
  // detached task does not keep the awaiting task alive.
  void release() noexcept {
    if (task_ == nullptr) return;
    {
      std::optional<Waker> old;
      std::lock_guard lock(slot_->mu);
      old.swap(slot_->waker);
    }
    detail::task_drop_ref(std::exchange(task_, nullptr));
  }

  detail::TaskHeader* task_;  // owns one reference; nullptr once done
  detail::PoolHandleSlot<T>* slot_;
};

class ThreadPoolBuilder;

// ThreadPool: a handle to a pool of worker threads (see the header comment).
class ThreadPool {
 public:
  // ThreadPool(): Rust's ThreadPool::new(): one worker per hardware thread
  // (at least one), no thread names. Throws std::system_error if a thread
  // cannot be started.
  ThreadPool();
  // ThreadPool::builder(): Rust's ThreadPool::builder().
  static ThreadPoolBuilder builder();

  ThreadPool(const ThreadPool& other) noexcept;
  ThreadPool(ThreadPool&& other) noexcept;
  ThreadPool& operator=(const ThreadPool& other) noexcept;
  ThreadPool& operator=(ThreadPool&& other) noexcept;
  // The last handle to go shuts the pool down (see the header comment).
  ~ThreadPool();

  // ThreadPool::spawn_ok: runs `future` on the pool; its output is dropped.
  // An exception from its poll goes to the builder's panic_handler. Spawning
  // on a moved-from ThreadPool throws std::logic_error.
  template <class F>
    requires Future<std::decay_t<F>>
  void spawn_ok(F&& future POLLWAKE_RECORD_WHERE) const {
    POLLWAKE_RECORD_SPAWN(checked_pool(), spawn_ok, future);
    PoolRef pool = checked_pool();
    auto* task = new detail::TaskImpl<std::decay_t<F>, false>(std::forward<F>(future));
    detail::pool_spawn(pool, task);
  }

  // spawn_with_handle: runs `future` on the pool and returns a future for its
  // output (Rust: SpawnExt::spawn_with_handle, a RemoteHandle).
  template <class F>
    requires Future<std::decay_t<F>>
  ThreadPoolHandle<OutputOf<std::decay_t<F>>> spawn_with_handle(
      F&& future POLLWAKE_RECORD_WHERE) const {
    POLLWAKE_RECORD_SPAWN(checked_pool(), spawn_with_handle, future);
    PoolRef pool = checked_pool();
    auto* task = new detail::TaskImpl<std::decay_t<F>, true>(std::forward<F>(future));
    detail::pool_spawn(pool, task);
    // The task was created with a reference for the handle.
    return ThreadPoolHandle<OutputOf<std::decay_t<F>>>(task, &task->slot);
  }

  // The number of worker threads.
  std::size_t pool_size() const noexcept;

  // The recorder's key for this pool, shared by its copies (record/hooks.h).
  POLLWAKE_RECORD_KEY_MEMBER(pool_);

 private:
  friend class ThreadPoolBuilder;
  struct Handle;  // the shared "last handle shuts down" object, thread_pool.cc
  using PoolRef = detail::PoolShared*;
  explicit ThreadPool(Arc<Handle> handle) noexcept;
  PoolRef checked_pool() const;

  Arc<Handle> handle_;
  detail::PoolShared* pool_ = nullptr;  // cached from handle_, same lifetime
};

// ThreadPoolBuilder: Rust's ThreadPoolBuilder. Each setter returns *this.
class ThreadPoolBuilder {
 public:
  ThreadPoolBuilder();

  // pool_size: the number of workers (default: hardware threads). 0 throws
  // std::invalid_argument (Rust panics: "there must be at least one thread").
  ThreadPoolBuilder& pool_size(std::size_t size);
  // name_prefix: worker i is named prefix + i (pthread_setname_np; Linux
  // keeps the first 15 bytes). Default: threads keep the process's name.
  ThreadPoolBuilder& name_prefix(std::string prefix);
  // stack_size: bytes of stack per worker (0: the system default).
  ThreadPoolBuilder& stack_size(std::size_t bytes);
  // after_start(f): f(index) runs on each worker before it polls anything.
  ThreadPoolBuilder& after_start(std::function<void(std::size_t)> f);
  // before_stop(f): f(index) runs on each worker after its last poll.
  ThreadPoolBuilder& before_stop(std::function<void(std::size_t)> f);
  // panic_handler(f): f(exception) runs on the worker when a spawn_ok task
  // throws, and when after_start or before_stop throws (pollwake only; Rust
  // has no such hook). Default: one line on stderr. An exception thrown by
  // the handler itself is printed and dropped.
  ThreadPoolBuilder& panic_handler(std::function<void(std::exception_ptr)> f);

  // create: starts the workers. Throws std::system_error if a thread cannot
  // be started (the ones already started are stopped and joined first).
  ThreadPool create();

 private:
  std::size_t pool_size_;
  std::string name_prefix_;
  bool named_ = false;
  std::size_t stack_size_ = 0;
  std::function<void(std::size_t)> after_start_;
  std::function<void(std::size_t)> before_stop_;
  std::function<void(std::exception_ptr)> panic_handler_;
};

}  // namespace pollwake

#endif  // POLLWAKE_EXECUTOR_THREAD_POOL_H_
