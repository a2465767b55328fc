// reactor/runtime.h
//
// Models tokio's `Runtime` in its two flavours, `Builder::new_current_thread()`
// and `Builder::new_multi_thread()`: the one small piece that joins the
// reactor (reactor.h, which knows no executor) to pollwake's executors
// (executor/, which know no reactor).
//
//   Rust (tokio)                             pollwake
//   current_thread Runtime                   LocalRuntime  (LocalPool + Reactor, one thread)
//   multi_thread Runtime                     PoolRuntime   (ThreadPool + Reactor on its own thread)
//   rt.block_on(fut)                         rt.block_on(fut)
//   tokio::spawn / rt.spawn(fut)             rt.spawn(fut)
//   Handle::current() (a thread-local)       rt.handle()   (passed explicitly)
//
// LocalRuntime: the thread that calls block_on runs the tasks and drives the
// reactor. Its loop:
//     poll the main future if it was woken; run the LocalPool until no task
//     is woken (run_until_stalled); then turn the reactor: without blocking
//     (timeout 0) if the pass ran anything or a wake is pending, blocking in
//     epoll_wait only after a pass that ran nothing.
// When to sleep is the policy that decides a closed-loop race (a client
// waiting for each answer before it sends again), and the two peers differ:
//   * tokio's current-thread scheduler (1.24) blocks in the driver as soon
//     as its run queue is empty, and polls it with timeout 0 only every
//     `event_interval` (61) task polls or after a `yield_now`.
//   * Asio's scheduler keeps the reactor as one entry of its handler queue
//     and runs it with timeout 0 whenever other handlers are queued behind
//     it, blocking only when the queue holds nothing else.
// pollwake does what Asio does, stated for passes: a pass that ran a task
// (or the main future) is followed by a non-blocking turn and another pass;
// only a pass that ran nothing, after a turn that found nothing, leads to a
// blocking one. Under load the answers the tasks just wrote come back while
// the thread is still awake, and it does not pay for going to sleep and
// being scheduled again for each burst. The cost on an idle runtime is one
// epoll_wait(0) after each burst of work; no wake is ever delayed by it (a
// turn that would have blocked only returns sooner), and the poll budget
// below still bounds how many polls run between two turns.
// The one gap: LocalPool parks its thread on its own Parker, which knows
// nothing about epoll, and a task woken from ANOTHER thread (a ThreadPool
// task completing a channel, a helper thread) would only unpark that Parker
// while this thread sleeps in epoll_wait. So the runtime gives its pool a
// remote waker (LocalPool::set_remote_waker) that writes the reactor's
// eventfd (Handle::unpark) when the wake comes from another thread. tokio
// does the same: its current-thread scheduler's remote wake pushes to the
// inject queue and unparks the driver. Wakes on the runtime's own thread,
// from the reactor's turn or from the main future, go straight onto the
// pool's ready queue (LocalPool::WakeScope), as a task's own wakes do.
//
// The poll budget (tokio's `event_interval`, 61 by default). run_until_stalled
// returns only when no task woke another; two tasks that keep waking each
// other (or a stream of always-ready work) would keep it busy forever, and
// the reactor, turned only after it returns, would never look at epoll or the
// timers again: I/O starves. So the loop runs the pool with
// run_until_stalled_at_most(kEventInterval): after that many task polls it
// returns with the other tasks still queued, and the loop turns the reactor
// without blocking (timeout 0: what tokio calls park_timeout(0) /
// "maintenance") before the next run. The main future is polled once per
// loop iteration, so it cannot be starved either.
//
// PoolRuntime: ThreadPool workers run the tasks; one dedicated thread loops
// in Reactor::turn and wakes tasks, which the pool's wakers queue to its
// workers. tokio instead lets whichever worker goes idle first drive the
// reactor (no extra thread, but a worker that drives cannot poll tasks, and
// the others must unpark it through the eventfd); pollwake keeps the driver
// separate so the executor needs no hook. docs/09_reactor.md has the
// measured cost of the choice.
//
// Drop order (both): tasks first (their sockets deregister), then the
// reactor (remaining registrations get kReactorGone).
//
// A turn that fails (epoll_wait with an error other than EINTR: the epoll
// fd or the event buffer is broken, a bug that does not pass) cannot be
// retried. LocalRuntime::block_on throws std::system_error (tokio panics in
// its driver, which unwinds out of block_on the same way); PoolRuntime's
// reactor thread has no caller to hand it to, so it prints the error and
// calls std::abort().
#ifndef POLLWAKE_REACTOR_RUNTIME_H_
#define POLLWAKE_REACTOR_RUNTIME_H_

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <system_error>
#include <memory>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>

#include "executor/block_on.h"
#include "executor/local_pool.h"
#include "executor/record/hooks.h"
#include "executor/thread_pool.h"
#include "poll/arc.h"
#include "poll/context.h"
#include "poll/future.h"
#include "poll/poll.h"
#include "poll/wake.h"
#include "poll/waker.h"
#include "reactor/reactor.h"

namespace pollwake::reactor {

namespace detail {

// tokio's current-thread `event_interval` default: how many task polls may
// run between two looks at the reactor.
inline constexpr int kEventInterval = 61;

// [START remote_wake]
// What the runtime's wakers share: the eventfd, and the main future's flag.
struct LocalCore {
  Handle reactor;
  std::thread::id owner;
  std::atomic<bool> main_woken{false};

  // A wake from the owner thread happens while it is running (polling, or
  // in turn()): it looks at the pool before it blocks again. From another
  // thread, the owner may be inside epoll_wait: wake it.
  void unpark_from_elsewhere() const {
    if (std::this_thread::get_id() != owner) reactor.unpark();
  }
};

// The pool's remote waker (see the header comment).
struct RemoteWake {
  explicit RemoteWake(Arc<LocalCore> c) : core(std::move(c)) {}
  Arc<LocalCore> core;
  void wake_by_ref() const { core->unpark_from_elsewhere(); }
};
// [END remote_wake]

struct MainWake {
  explicit MainWake(Arc<LocalCore> c) : core(std::move(c)) {}
  Arc<LocalCore> core;
  void wake_by_ref() const {
    // ORDERING: release, read by block_on's acquire exchange.
    core->main_woken.store(true, std::memory_order_release);
    core->unpark_from_elsewhere();
  }
};

// The recorder's readiness events (executor/record/): the runtime is the one
// piece that knows both the reactor and the executor, so it is the one that
// tells the reactor whom to report a turn's readiness to. With the recorder
// compiled out this is no observer at all, and a turn pays one branch.
template <class Executor>
Reactor::ReadinessObserver recorder_observer([[maybe_unused]] const Executor& executor) {
#if defined(POLLWAKE_RECORD) && POLLWAKE_RECORD
  return {[](void* key, int fd, std::uint32_t bits) {
            std::uint32_t what = 0;
            if (bits & (kReadable | kReadClosed)) what |= record::kReadinessRead;
            if (bits & kWritable) what |= record::kReadinessWrite;
            if (bits & (kReadClosed | kWriteClosed)) what |= record::kReadinessHangup;
            if (bits & kError) what |= record::kReadinessError;
            record::Recorder::readiness(key, fd, what);
          },
          const_cast<void*>(record::Recorder::key_of(executor))};
#else
  return {};
#endif
}

}  // namespace detail

// LocalRuntime: tokio's current-thread runtime (see the header comment).
// Bound to the thread that constructs it, as LocalPool is.
class LocalRuntime {
 public:
  LocalRuntime() : pool_(std::make_unique<LocalPool>()) {
    core_ = Arc<detail::LocalCore>::make();
    // Plain field writes before any waker (or other thread) can see core_.
    detail::LocalCore& core = *core_;
    core.reactor = reactor_.handle();
    core.owner = std::this_thread::get_id();
    pool_->set_remote_waker(waker_from(Arc<detail::RemoteWake>::make(core_)));
    reactor_.set_readiness_observer(detail::recorder_observer(*pool_));
  }
  ~LocalRuntime() { pool_.reset(); }  // tasks (and their sockets) before the reactor

  // With the recorder compiled in (--config=record), `rec.attach_to(rt)`
  // records the runtime's tasks, its sleeps in epoll_wait (as parks) and
  // the readiness each turn delivers: they are recorded under its pool.
  POLLWAKE_RECORD_KEY_MEMBER(pool_.get());

  Handle handle() const { return reactor_.handle(); }
  Reactor& reactor() noexcept { return reactor_; }

  // Spawns `f` as a task of the LocalPool (call on the runtime's thread).
  template <class F>
    requires Future<std::remove_cvref_t<F>>
  void spawn(F&& f) {
    pool_->spawner().spawn_local(std::forward<F>(f));
  }

  // Runs `f` and every spawned task on this thread until `f` is ready.
  // [START local_block_on]
  template <class F>
    requires Future<std::remove_cvref_t<F>>
  OutputOf<std::remove_cvref_t<F>> block_on(F&& f) {
    std::remove_cvref_t<F> main(std::forward<F>(f));
    Arc<detail::MainWake> main_wake = Arc<detail::MainWake>::make(core_);
    WakerRef w = waker_ref(main_wake);
    Context cx = Context::from_waker(w.get());
    detail::LocalCore& core = *core_;
    // ORDERING: relaxed; only this thread reads it before the first wake.
    core.main_woken.store(true, std::memory_order_relaxed);
    for (;;) {
      bool ran = false;
      {
        // Its wakes of the pool's tasks go straight onto the ready queue.
        LocalPool::WakeScope wakes_here = pool_->wake_scope();
        // ORDERING: acquire, pairs with MainWake's release.
        if (core.main_woken.exchange(false, std::memory_order_acquire)) {
          ran = true;
          Poll<OutputOf<std::remove_cvref_t<F>>> p = main.poll(cx);
          if (p.is_ready()) return std::move(p).value();
        }
      }
      // At most a budget of task polls between two turns (header comment).
      ran = pool_->run_until_stalled_at_most(detail::kEventInterval) != 0 || ran;
      // A task still queued (one that yielded, one the budget deferred, a
      // wake from another thread), a main future woken, or a pass that ran
      // anything (it may have work coming back, see the header comment):
      // look at the reactor without blocking. Only after a pass that ran
      // nothing, sleep in epoll_wait until I/O, a timer or an unpark. A wake
      // from another thread after this check writes the eventfd, and the
      // sleep returns at once. ORDERING: acquire, as above.
      bool more = ran || pool_->has_ready() || core.main_woken.load(std::memory_order_acquire);
      std::optional<IoResult<int>> turned;
      {
        // The turn runs on the pool's thread: its wakes go straight onto
        // the pool's ready queue (LocalPool::WakeScope).
        LocalPool::WakeScope wakes_here = pool_->wake_scope();
        if (more) {
          turned.emplace(reactor_.turn(Clock::duration::zero()));
        } else {  // the runtime's sleep: recorded as the pool's park
          POLLWAKE_RECORD_PARKED(pool_.get(), turned.emplace(reactor_.turn(std::nullopt)));
        }
      }
      if (turned->is_err()) {
        throw std::system_error(turned->error().raw_os_error(), std::generic_category(),
                                "LocalRuntime: epoll_wait");
      }
    }
  }
  // [END local_block_on]

 private:
  Reactor reactor_;  // declared first: destroyed last
  std::unique_ptr<LocalPool> pool_;
  Arc<detail::LocalCore> core_;
};

// PoolRuntime: tokio's multi-thread runtime, with the reactor on its own
// thread (see the header comment).
class PoolRuntime {
 public:
  explicit PoolRuntime(std::size_t workers)
      : pool_(ThreadPool::builder().pool_size(workers).name_prefix("pw-worker-").create()) {
    reactor_.set_readiness_observer(detail::recorder_observer(*pool_));
    driver_ = std::thread([this] {
      // ORDERING: acquire, pairs with the destructor's release store.
      while (!stop_.load(std::memory_order_acquire)) {
        IoResult<int> turned = reactor_.turn(std::nullopt);
        if (turned.is_err()) {  // see the header comment
          std::fprintf(stderr, "PoolRuntime: epoll_wait failed: %s\n",
                       turned.error().message().c_str());
          std::abort();
        }
      }
    });
  }
  ~PoolRuntime() {
    // ORDERING: release; the unpark makes the driver's epoll_wait return and
    // re-read the flag.
    stop_.store(true, std::memory_order_release);
    reactor_.handle().unpark();
    driver_.join();
    pool_.reset();  // joins the workers and drops unfinished tasks
  }

  Handle handle() const { return reactor_.handle(); }

  // As LocalRuntime's: `rec.attach_to(rt)` records the pool's tasks and the
  // readiness the driver thread's turns deliver.
  POLLWAKE_RECORD_KEY_MEMBER(pool_->recorder_key());

  template <class F>
    requires Future<std::remove_cvref_t<F>>
  void spawn(F&& f) {
    pool_->spawn_ok(std::forward<F>(f));
  }

  // Blocks the calling thread (not a worker) until `f` is ready.
  template <class F>
    requires Future<std::remove_cvref_t<F>>
  OutputOf<std::remove_cvref_t<F>> block_on(F&& f) {
    return pollwake::block_on(std::forward<F>(f));
  }

 private:
  Reactor reactor_;  // declared first: destroyed last
  std::optional<ThreadPool> pool_;
  std::atomic<bool> stop_{false};
  std::thread driver_;
};

}  // namespace pollwake::reactor

#endif  // POLLWAKE_REACTOR_RUNTIME_H_
