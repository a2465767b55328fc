// executor/thread_pool.h
//
// Models futures-rs's `futures::executor::ThreadPool` and `ThreadPoolBuilder`:
// a fixed set of worker threads that poll spawned futures ("tasks") when they
// are woken. The task state machine is futures-rs's `UnparkMutex`
// (futures-executor/src/unpark_mutex.rs): executor/detail/pool_task_state.h.
// The task layout is executor/detail/pool_task.h, the handle's join slot
// executor/detail/join_slot.h (the same for LocalPool's handles).
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
//     executor/detail/pool_task_state.h.)
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
//     as tokio's JoinHandle does; why the two pools' handles differ is said
//     once, in docs/guarantees.md ("Task handles"). Awaiting the handle of a
//     task that the pool destroyed unfinished throws TaskCanceled (Rust's
//     RemoteHandle panics).
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

#include <cstddef>
#include <exception>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>

#include "executor/detail/join_handle.h"
#include "executor/detail/pool_task.h"
#include "executor/record/hooks.h"
#include "executor/task_canceled.h"
#include "poll/arc.h"
#include "poll/future.h"

namespace pollwake {


// ThreadPoolHandle<T>: a future for the output of a task spawned with
// spawn_with_handle (Rust: RemoteHandle<T>). Ready(output) once the task has
// finished; re-throws the task's exception; throws TaskCanceled if the pool
// destroyed the task unfinished. May be polled from any thread (it is a
// future like any other: await it in another task, or block_on it). Polling
// it again after it returned (or threw) throws FuturePolledAfterCompletion.
// Destroying it detaches the task: the task runs on and its output is
// dropped (the rule for both pools' handles: docs/guarantees.md, "Task
// handles").
template <class T>
class ThreadPoolHandle : public detail::JoinHandle<T, detail::PoolHandleOps> {
 private:
  friend class ThreadPool;
  ThreadPoolHandle(detail::PoolTaskHeader* task, detail::JoinSlot<T>* slot) noexcept
      : detail::JoinHandle<T, detail::PoolHandleOps>(task, slot) {}
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
    auto* task = new detail::PoolTask<std::decay_t<F>, false>(std::forward<F>(future));
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
    auto* task = new detail::PoolTask<std::decay_t<F>, true>(std::forward<F>(future));
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
