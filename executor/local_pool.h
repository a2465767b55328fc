// executor/local_pool.h
//
// Models futures-rs's `futures::executor::LocalPool` and `LocalSpawner`: a
// single-threaded executor that runs many tasks on the thread that owns it,
// polling a task only after it has been woken.
//
//   Rust (futures-executor)                 pollwake
//   LocalPool::new()                        LocalPool pool;
//   pool.spawner() -> LocalSpawner          pool.spawner()
//   pool.run()                              pool.run()
//   pool.run_until(f) -> F::Output          pool.run_until(f)
//   pool.try_run_one() -> bool              pool.try_run_one()
//   pool.run_until_stalled()                pool.run_until_stalled()
//   spawner.spawn_local(f)                  spawner.spawn_local(f)   (throws
//     -> Result<(), SpawnError>               SpawnError when the pool is gone)
//   spawner.spawn_local_with_handle(f)      spawner.spawn_local_with_handle(f)
//     -> Result<RemoteHandle<T>, _>           -> RemoteHandle<T>
//   RemoteHandle::forget()                  handle.forget()
//
// What the caller may rely on:
//   * Only woken tasks are polled. A task is queued once however often it is
//     woken before it runs, and every wake is followed by at least one poll
//     while the pool runs and the task is unfinished. Wakes may come from any
//     thread.
//   * Tasks run in the order they were woken (FIFO), in passes: a pass polls
//     the tasks that were ready when it began; tasks woken or spawned during
//     a pass wait for the next one. So a task that keeps waking itself gets
//     one poll per pass and cannot starve the others.
//   * run() returns when the pool has no tasks left (it sleeps while none is
//     ready). run_until(f) returns f's output as soon as f is ready, leaving
//     the other tasks in the pool. try_run_one() never sleeps: it returns true
//     once a task has completed, false when none could.
//   * run_until_stalled() never sleeps and returns when no task is woken,
//     counting wakes by other tasks, by other threads and tasks spawned by
//     tasks. A task that woke only itself does not keep it going: it returns
//     after a pass in which nothing happened but self-wakes (no completion,
//     no spawn, no wake of another task), with the self-woken tasks still
//     queued for the next call. This is the behaviour of futures-rs 0.3.21
//     (the version Debian packages, and the one tests/oracles compares
//     against): its run_until_stalled returns as soon as FuturesUnordered
//     yields, which it does after every task had one poll or two tasks woke
//     themselves; pollwake states the budget as a rule about passes.
//     futures-rs 0.3.22 and later ("Make run_until_stalled handle
//     self-waking futures") keep polling while any task woke itself, so a
//     task that always wakes itself makes run_until_stalled (and
//     try_run_one) loop for ever. pollwake keeps the 0.3.21 budget: a call
//     that never sleeps should also always return.
//   * Waking a task whose pool is gone does nothing. Spawning on a spawner
//     whose pool is gone throws SpawnError (is_shutdown()). Dropping the pool
//     destroys its unfinished tasks (their futures), on the dropping thread.
//   * An exception thrown by a task's poll propagates out of the run*/
//     try_run_one call that polled it (C++'s panic); that task is dropped and
//     the pool stays usable. A task spawned with a handle instead keeps its
//     exception for the handle, which rethrows it when polled (futures-rs's
//     Remote catches the panic and resumes it in the RemoteHandle).
//   * Each run* call holds the enter guard: calling block_on or any run*
//     from inside a task throws EnterError.
//
// How pollwake differs, and why:
//   * Rust's LocalPool and LocalSpawner are !Send, so the compiler keeps them
//     on one thread. pollwake binds a pool to the thread that constructs it;
//     spawning or running it from another thread throws (SpawnError for
//     spawns, std::logic_error for run*). Wakers, like Rust's, are for any
//     thread.
//   * A LocalPool cannot be moved (its tasks point back at it); hold it in a
//     std::unique_ptr to move it. Destroying it from inside one of its own
//     tasks, or while it is running, aborts the program with a message
//     (Rust's borrow checker forbids it at compile time). So does destroying
//     it on a thread other than its owner: Rust's LocalPool is !Send, so it
//     is dropped where it was made, and its tasks (which are !Send too) are
//     destroyed on that thread; pollwake cannot refuse a destructor, and
//     running the tasks' destructors on a foreign thread would break that
//     promise, so it stops the program instead.
//   * A future's destructor must not spawn on its own dropped pool (the
//     SpawnError would leave a destructor: std::terminate).
//   * spawn_local accepts a future of any output and discards the output
//     (Rust requires Output = ()); use spawn_local_with_handle to keep it.
//   * A RemoteHandle whose task was dropped unfinished (the pool went first)
//     throws TaskCanceled when polled (futures-rs panics with "Canceled").
//
// The layout (async-task style, docs/02_executors.md "LocalPool"): one
// allocation per task holds a LocalTaskHeader (state bits, reference count,
// vtable, queue link) followed by the future (executor/detail/local_task.h,
// with the wake path in local_task.cc); the ready queue is intrusive; wakes
// on the pool's own thread during a run push straight onto it (no lock),
// other wakes go through a lock-free multi-producer stack
// (executor/detail/remote_stack.h) that the pool drains (reversed, so FIFO)
// at the start of every pass. A handle's join slot is
// executor/detail/join_slot.h, the same for ThreadPool's handles. The run
// loop is documented in local_pool.cc and docs/02_executors.md.
#ifndef POLLWAKE_EXECUTOR_LOCAL_POOL_H_
#define POLLWAKE_EXECUTOR_LOCAL_POOL_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

#include "executor/detail/block_cache.h"
#include "executor/detail/join_handle.h"
#include "executor/detail/local_task.h"
#include "executor/record/hooks.h"
#include "executor/spawn_error.h"
#include "executor/task_canceled.h"
#include "poll/context.h"
#include "poll/future.h"
#include "poll/poll.h"
#include "poll/waker.h"


namespace pollwake {

class LocalPool;
class LocalSpawner;
namespace detail {
class LocalPoolShared;
}  // namespace detail


// RemoteHandle<T>: a future for the output of a task spawned with
// spawn_local_with_handle. Polling it (from any thread, e.g. with block_on)
// gives the output, rethrows the task's exception, or throws TaskCanceled.
// Dropping it cancels the task (the task is woken and dropped unpolled),
// unless forget() was called first (why ThreadPoolHandle detaches instead:
// docs/guarantees.md, "Task handles"). Rust: `futures::future::RemoteHandle`.
template <class T>
class RemoteHandle : public detail::JoinHandle<T, detail::LocalHandleOps> {
 public:
  // RemoteHandle::forget: lets the task run to completion without the
  // handle; its output is then discarded.
  void forget() && { this->detach(); }

 private:
  friend class LocalSpawner;
  RemoteHandle(detail::LocalTaskHeader* task, detail::LocalJoinSlot<T>* slot) noexcept
      : detail::JoinHandle<T, detail::LocalHandleOps>(task, slot) {}
};

// LocalSpawner: spawns tasks onto its LocalPool. Copies are handles to one
// pool and do not keep it alive. Use it on the pool's thread only.
class LocalSpawner {
 public:
  LocalSpawner(const LocalSpawner& other) noexcept;
  LocalSpawner& operator=(const LocalSpawner& other) noexcept;
  ~LocalSpawner();

  // LocalSpawner::spawn_local: adds `future` as a task (queued, not yet
  // polled: futures are inert until polled). Its output is discarded.
  // Throws SpawnError if the pool is gone or this is not the pool's thread.
  template <class F>
    requires Future<std::remove_cvref_t<F>>
  void spawn_local(F&& future POLLWAKE_RECORD_WHERE) const {
    POLLWAKE_RECORD_SPAWN(&checked_pool(), spawn_local, future);
    using Task = detail::LocalTask<std::remove_cvref_t<F>, false>;
    LocalPool& pool = checked_pool();
    adopt(pool, Task::create(cache_of(pool), std::forward<F>(future)));
  }

  // LocalSpawner::spawn_local_with_handle: as spawn_local, and returns a
  // RemoteHandle for the output (see RemoteHandle for cancellation).
  template <class F>
    requires Future<std::remove_cvref_t<F>>
  RemoteHandle<OutputOf<std::remove_cvref_t<F>>> spawn_local_with_handle(
      F&& future POLLWAKE_RECORD_WHERE) const {
    POLLWAKE_RECORD_SPAWN(&checked_pool(), spawn_local_with_handle, future);
    using Task = detail::LocalTask<std::remove_cvref_t<F>, true>;
    LocalPool& pool = checked_pool();
    Task* task = Task::create(cache_of(pool), std::forward<F>(future));
    // SAFETY: a third reference, for the handle (the pool and the queue
    // hold the first two); set before the task is visible to anyone.
    task->refs.store(3, std::memory_order_relaxed);
    adopt(pool, task);
    return RemoteHandle<OutputOf<std::remove_cvref_t<F>>>(task, &task->slot);
  }

 private:
  friend class LocalPool;
  explicit LocalSpawner(detail::LocalPoolShared* shared) noexcept;
  LocalPool& checked_pool() const;  // throws SpawnError
  static void adopt(LocalPool& pool, detail::LocalTaskHeader* task) noexcept;
  static detail::TaskBlockCache& cache_of(LocalPool& pool) noexcept;  // after LocalPool

  detail::LocalPoolShared* shared_;  // one reference
};

class LocalPool {
 public:
  LocalPool();
  ~LocalPool();
  LocalPool(const LocalPool&) = delete;
  LocalPool& operator=(const LocalPool&) = delete;
  LocalPool(LocalPool&&) = delete;
  LocalPool& operator=(LocalPool&&) = delete;

  // LocalPool::spawner: a handle for spawning tasks onto this pool.
  LocalSpawner spawner() const noexcept;

  // LocalPool::run: runs tasks until none is left, sleeping while none is
  // ready. Never returns if a task never finishes and is never dropped.
  void run();

  // LocalPool::run_until: runs the pool's tasks and `future` (polled on
  // this thread, not spawned) until `future` is ready; returns its output.
  // Other tasks stay in the pool, finished or not. As with block_on, an
  // lvalue future is polled in place (Rust: `run_until(&mut fut)`; it is
  // never copied, and stays with the caller, e.g. to be polled again after
  // an exception) and an rvalue is moved into the call.
  template <class F>
    requires Future<std::remove_cvref_t<F>>
  OutputOf<std::remove_cvref_t<F>> run_until(F&& future POLLWAKE_RECORD_WHERE) {
    POLLWAKE_RECORD_RUN(this, run_until, future);
    using Fut = std::remove_cvref_t<F>;
    auto run = [this](Fut& f) -> OutputOf<Fut> {
      std::optional<OutputOf<Fut>> out;
      auto poll_main = [&](Context& cx) {
        Poll<OutputOf<Fut>> p = f.poll(cx);
        if (p.is_pending()) return false;
        out.emplace(std::move(p).value());
        return true;
      };
      run_loop(MainRef{&poll_main, [](void* m, Context& cx) {
                         return (*static_cast<decltype(poll_main)*>(m))(cx);
                       }});
      return std::move(*out);
    };
    if constexpr (std::is_lvalue_reference_v<F>) {
      return run(future);
    } else {
      Fut local(std::move(future));
      return run(local);
    }
  }

  // LocalPool::try_run_one: polls woken tasks until one completes (true) or
  // none can (false): the ready queue is empty, or a pass had nothing but
  // self-wakes. Never sleeps.
  bool try_run_one();

  // LocalPool::run_until_stalled: polls woken tasks until nothing but
  // self-wakes is left (see the header comment). Never sleeps.
  void run_until_stalled();

  // Driving the pool from an event loop (pollwake's own; futures-rs's
  // LocalPool has neither: reactor/runtime.h's LocalRuntime is the user).
  //
  // run_until_stalled_at_most: run_until_stalled, stopping after `max_polls`
  // task polls (tokio's event_interval): a loop that must get back to its
  // event source cannot wait for tasks that keep waking each other. The
  // tasks not reached stay queued in order, ahead of those woken meanwhile.
  // Returns the number of polls made.
  std::size_t run_until_stalled_at_most(std::size_t max_polls);
  // has_ready: whether a task is waiting to be polled, in the ready queue or
  // on the remote stack (a wake from another thread). Pool's thread only.
  bool has_ready() const noexcept;
  // set_remote_waker: `waker` is woken (by reference) after every wake that
  // reaches the pool through its remote stack, on the waking thread, as well
  // as the pool's own parker: for a pool whose thread sleeps somewhere else
  // (in epoll_wait), so that a wake from another thread also wakes it there.
  // Call on the pool's thread before spawning anything (std::logic_error
  // otherwise, or off the thread).
  void set_remote_waker(Waker waker);

  // WakeScope (pollwake's own; futures-rs's LocalPool has no event source
  // of its own to drive): while one lives, a wake made on this thread of one
  // of this pool's tasks goes straight onto the ready queue, as a wake made
  // inside a run does, instead of through the remote stack and the parker
  // (two atomic read-modify-writes and a third when the next pass takes the
  // stack). For code that drives an event source on the pool's thread
  // between runs: reactor/runtime.h opens one around each turn of its
  // reactor, whose wakes are then as cheap as a task's. It changes nothing
  // else: the woken tasks run at the next run*, in wake order. wake_scope()
  // throws std::logic_error off the pool's thread; scopes nest (each
  // restores what it found). Destroying the pool while one of its scopes is
  // open aborts with a message (the scope would point at a freed pool).
  class WakeScope {
   public:
    WakeScope(const WakeScope&) = delete;
    WakeScope& operator=(const WakeScope&) = delete;
    ~WakeScope();

   private:
    friend class LocalPool;
    explicit WakeScope(LocalPool* pool) noexcept;
    LocalPool* pool_;
    LocalPool* prev_;
  };
  [[nodiscard]] WakeScope wake_scope();

 private:
  friend class LocalSpawner;
  friend void detail::local_task_wake(detail::LocalTaskHeader* task, bool owned) noexcept;
  friend void detail::local_task_release_n(detail::LocalTaskHeader* task, std::uint32_t n) noexcept;
  static constexpr std::size_t kRefBatch = 256;

  // The main future of run_until, type-erased without allocating.
  struct MainRef {
    void* f;
    bool (*poll)(void* f, Context& cx);
  };
  enum class Mode { kRun, kStalled, kOne };

  void run_loop(MainRef main);
  // `budget`: polls left (nullptr: no limit); decremented per poll.
  bool run_passes(Mode mode, std::size_t* budget = nullptr);
  bool poll_task(detail::LocalTaskHeader* task);
  void complete(detail::LocalTaskHeader* task, bool sole_owner = false) noexcept;
  void free_task(detail::LocalTaskHeader* task) noexcept;
  void drain_remote() noexcept;
  void push_local(detail::LocalTaskHeader* task) noexcept;
  detail::LocalTaskHeader* pop_local() noexcept;
  void check_thread(const char* method) const;

  detail::LocalPoolShared* shared_;  // one reference
  // The ready queue (pool thread only): FIFO, linked through task->next.
  detail::LocalTaskHeader* head_ = nullptr;
  detail::LocalTaskHeader* tail_ = nullptr;
  std::size_t ready_ = 0;
  // Every task whose future is alive (pool thread only).
  detail::LocalTaskHeader* all_ = nullptr;
  std::size_t live_ = 0;
  // The task being polled, to tell self-wakes from others (pool thread only).
  detail::LocalTaskHeader* current_ = nullptr;
  // Set by anything but a self-wake during a pass (pool thread only).
  bool progress_ = false;
  // The task being polled woke itself: its new queue entry took the
  // reference the poll holds (pool thread only).
  bool self_requeued_ = false;
  // References on *shared_ held in stock for new tasks (pool thread only).
  std::size_t spare_refs_ = 0;
  bool running_ = false;
  // WakeScopes of this pool now open (pool thread only): destroying the pool
  // under one aborts (the scope, or a run that restores it, would point at
  // freed memory).
  int wake_scopes_ = 0;
  // Free task blocks for spawns (pool thread only). Declared last, so it is
  // destroyed after ~LocalPool has released every task.
  detail::TaskBlockCache cache_;
};

inline detail::TaskBlockCache& LocalSpawner::cache_of(LocalPool& pool) noexcept {
  return pool.cache_;
}

}  // namespace pollwake

#endif  // POLLWAKE_EXECUTOR_LOCAL_POOL_H_
