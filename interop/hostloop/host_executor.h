// interop/hostloop/host_executor.h
//
// Models the thread-local executor of the ocaml-lwt-interop design (its
// `LocalExecutor`, built on async-task): pollwake tasks that run on the thread
// of a foreign event loop (libuv, OCaml's Lwt), inside that loop's callbacks,
// never in a loop of their own.
//
//   ocaml-lwt-interop (Rust)               pollwake
//   LocalExecutor::new(notification)       HostExecutor ex(notify_hook);
//   executor.spawn(future)                 ex.spawn(future[, on_done])
//   (schedule fn) queue.push + notify      a wake: enqueue + coalesced notify
//   run_pending() from the Lwt_unix        ex.run_ready() from the host's
//     notification callback                  notification callback
//
// What the caller may rely on:
//   * The executor belongs to the thread that constructs it (the host loop's
//     thread). run_ready() and spawn_local() must be called there; elsewhere
//     they throw std::logic_error / SpawnError::misuse.
//   * spawn() and every Waker of a task may be used from any thread. Each
//     puts the task on a thread-safe ready queue and then calls the host's
//     `notify` hook, which must make the host call run_ready() soon on its
//     own thread (uv_async_send; the OCaml host writes an eventfd).
//   * Coalesced notification: one notify per batch of wakes. A flag
//     (`notified`) is set by the first wake after a run_ready() began; only
//     the wake that flips it from false to true calls notify. run_ready()
//     clears it *before* it takes the batch, so a wake that misses the batch
//     always finds it clear (or set by a later wake that notified): no
//     notification is lost, and N wakes between two runs cost one notify.
//   * run_ready() never blocks and is bounded: it polls the tasks that were
//     ready when it began, each once, in wake order, then returns. A task
//     woken during the pass (by itself, another task or another thread) is
//     polled in the next pass, after the next notification. Why: the host
//     loop has other work (Lwt's own promises, libuv's I/O); a task that
//     wakes itself in a loop would otherwise keep run_ready() from ever
//     returning, and the Lwt promise it waits on would never be resolved.
//     It also matches Lwt's own rule for `Lwt.pause`: resumed at the next
//     turn of the loop, not in the current one.
//   * A task's exception is caught: the task is dropped and its `on_done`
//     receives an error Status (kInternal, with what()). A task spawned
//     without on_done that fails is counted (failed_tasks()) and reported on
//     stderr; it never unwinds into the host's C callback. An exception
//     thrown by on_done itself is caught, reported and counted the same way.
//   * Teardown: shutdown() (or the destructor), on the owner thread, closes
//     the executor. After it returns notify is never called again and no
//     call is in progress; every unfinished task's future is destroyed there
//     (destructors may run the cancel hooks of Promise<T>, see promise.h;
//     a dropped task's on_done is not called, it is destroyed unrun);
//     later wakes and Promise resolutions from any thread are ignored;
//     spawn() throws SpawnError::shutdown(). A host loop that exits first
//     must call shutdown() before it frees whatever notify signals (libuv:
//     before uv_close of the uv_async_t). Nothing leaks: wakers that outlive
//     the executor hold only the task's small shell, freed with the last.
//   * Misuse aborts with a message where unwinding is impossible:
//     destroying the executor from inside one of its tasks.
//
// How pollwake differs, and why: the Rust executor notifies on every
// schedule. Lwt writes its pipe only for the first notification of a batch,
// but it records every id sent and calls the notification's callback once
// per id, so N uncoalesced wakes would cost N run_ready() passes (all but
// the first finding nothing). pollwake coalesces in the executor so any host
// (libuv's uv_async_t coalesces too, a raw pipe would not) costs one signal
// and one pass per batch. Tasks are reference-
// counted shells (Arc<Task>) holding their future; the future is touched
// only on the owner thread, so it need not be thread-safe (spawn_local),
// while spawn() from another thread takes a BoxFuture (Rust: Send).
//
// Memory ordering: the ready queue and the set of live tasks are guarded by
// one std::mutex (a plain lock: the critical sections are a push or a swap,
// and nothing waits while holding it). std::mutex, not absl::Mutex: Debian's
// libabsl is not built with ThreadSanitizer, so TSan cannot see absl::Mutex's
// synchronization and reports false races; std::mutex goes through pthread,
// which TSan intercepts, so the race tests check the real protocol. The
// `notified` flag and a task's `queued` flag carry no data of their own;
// their orderings are argued where they are used (host_executor.cc).
#ifndef POLLWAKE_INTEROP_HOSTLOOP_HOST_EXECUTOR_H_
#define POLLWAKE_INTEROP_HOSTLOOP_HOST_EXECUTOR_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "executor/spawn_error.h"
#include "poll/arc.h"
#include "poll/box_future.h"
#include "poll/poll.h"

namespace pollwake::hostloop {

class HostExecutor;

namespace detail {

struct HostShared;

// One spawned task: its future (owner thread only) and the flag that keeps
// it on the ready queue at most once.
struct HostTask {
  HostTask(Arc<HostShared> shared, LocalBoxFuture<Unit> future,
           std::function<void(absl::Status)> on_done)
      : shared(std::move(shared)), future(std::move(future)), on_done(std::move(on_done)) {}
  void wake_by_ref() const;  // the Wake concept (poll/wake.h): enqueue + notify

  Arc<HostShared> shared;
  // true while the task sits on the ready queue (set by the wake that queued
  // it, cleared by run_ready() just before the poll).
  mutable std::atomic<bool> queued{false};
  // Touched only on the owner thread (run_ready, shutdown), after the
  // spawning thread published the task under HostShared::mu. Emptied when
  // the task finishes or the executor shuts down.
  std::optional<LocalBoxFuture<Unit>> future;
  std::function<void(absl::Status)> on_done;
  bool finished = false;
};

// What the tasks and their wakers share with the executor. Outlives the
// executor as long as a waker does.
struct HostShared {
  explicit HostShared(std::function<void()> notify) : notify(std::move(notify)) {}

  // Puts a woken task on the ready queue and notifies (coalesced). Does
  // nothing once the executor is closed. Any thread.
  void schedule(Arc<HostTask> task);
  // Registers and queues a new task; throws SpawnError::shutdown() once the
  // executor is closed. Any thread.
  void spawn(LocalBoxFuture<Unit> future, std::function<void(absl::Status)> on_done);
  // Calls the host's hook unless a notification is already outstanding.
  void notify_once();

  std::mutex mu;
  bool closed = false;  // guarded by mu
  std::deque<Arc<HostTask>> ready;  // guarded by mu
  // Every unfinished task, so shutdown() can drop the ones nobody woke.
  absl::flat_hash_map<const HostTask*, Arc<HostTask>> live;  // guarded by mu

  // Set by the wake that calls notify, cleared at the start of run_ready().
  std::atomic<bool> notified{false};
  std::atomic<std::uint64_t> notify_calls{0};

  // The host's hook, called with notify_mu held so that shutdown() can wait
  // for a call in progress and then switch it off. The hook must not call
  // back into the executor (it only signals the host).
  std::mutex notify_mu;
  std::function<void()> notify;  // guarded by notify_mu
};

}  // namespace detail

// HostSpawner: a handle that spawns onto a HostExecutor from any thread and
// may outlive it (Rust: a cloned Spawner). After the executor is gone,
// spawn() throws SpawnError::shutdown() and destroys the future on the
// calling thread.
class HostSpawner {
 public:
  void spawn(BoxFuture<Unit> future, std::function<void(absl::Status)> on_done = nullptr) const {
    shared_->spawn(LocalBoxFuture<Unit>(std::move(future)), std::move(on_done));
  }

 private:
  friend class HostExecutor;
  explicit HostSpawner(Arc<detail::HostShared> shared) : shared_(std::move(shared)) {}
  Arc<detail::HostShared> shared_;
};

class HostExecutor {
 public:
  // HostExecutor(notify): binds the executor to the calling thread. `notify`
  // is called from any thread (the one that wakes or spawns), at most once
  // per batch of wakes, and must only signal the host loop (it must not call
  // into this executor). An empty hook is refused (std::invalid_argument).
  // If the hook throws, the exception reaches the spawn()/wake that called
  // it (the task stays queued) and the next wake calls the hook again.
  explicit HostExecutor(std::function<void()> notify);
  HostExecutor(const HostExecutor&) = delete;
  HostExecutor& operator=(const HostExecutor&) = delete;
  // ~HostExecutor: shutdown(). Called from inside one of its own tasks it
  // aborts with a message (the task's frame would be destroyed under it).
  ~HostExecutor();

  // HostExecutor::spawn: any thread. Queues a new task and notifies the host.
  // `on_done` (optional) runs on the owner thread when the task finishes:
  // OkStatus, or kInternal with the exception's message if its poll threw.
  // Throws SpawnError::shutdown() once the executor is closed.
  void spawn(BoxFuture<Unit> future, std::function<void(absl::Status)> on_done = nullptr);
  // HostExecutor::spawner: a handle for other threads (see HostSpawner).
  HostSpawner spawner() const { return HostSpawner(shared_); }
  // HostExecutor::spawn_local: owner thread only (SpawnError::misuse
  // elsewhere); the future need not be safe to move between threads.
  void spawn_local(LocalBoxFuture<Unit> future,
                   std::function<void(absl::Status)> on_done = nullptr);

  // HostExecutor::run_ready: owner thread only. Polls, once each, the tasks
  // that were ready when it began; never blocks. Returns how many it polled.
  // Throws std::logic_error from another thread, from inside a task
  // (re-entry), or after shutdown().
  std::size_t run_ready();

  // HostExecutor::shutdown: owner thread only; idempotent. See the header
  // comment ("Teardown"). Throws std::logic_error from inside a task.
  void shutdown();

  // Counters for tests and benchmarks (snapshots).
  std::uint64_t notify_calls() const noexcept;
  std::size_t live_tasks() const;
  std::uint64_t failed_tasks() const noexcept { return failed_; }

 private:
  void finish(detail::HostTask& task, absl::Status status);
  void check_owner(const char* what) const;

  Arc<detail::HostShared> shared_;
  std::thread::id owner_;
  bool running_ = false;  // inside run_ready (owner thread only)
  bool shut_down_ = false;
  std::uint64_t failed_ = 0;
};

}  // namespace pollwake::hostloop

#endif  // POLLWAKE_INTEROP_HOSTLOOP_HOST_EXECUTOR_H_
