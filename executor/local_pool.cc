// executor/local_pool.cc: LocalPool's run loop, the spawner and the drop
// (see local_pool.h for what callers may rely on; the wake path is
// executor/detail/local_task.cc).
//
// The run loop, one pass at a time:
//   1. drain the remote stack (wakes from other threads, or from this thread
//      outside a run and outside a WakeScope) onto the back of the local
//      ready queue;
//   2. poll exactly the tasks that are ready now (`ready_` at the start of the
//      pass), each popped from the front: clear kScheduled, poll with a
//      borrowed waker, and on Ready destroy the future and forget the task;
//      a wake during the poll (kScheduled was cleared) queues it again at the
//      back, for the next pass;
//   3. run_until polls its main future between passes when its waker fired;
//      run and run_until sleep on the pool's parker when nothing is ready,
//      run_until_stalled and try_run_one return instead.
#include "executor/local_pool.h"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

#include "executor/detail/local_pool_shared.h"
#include "executor/detail/local_task.h"
#include "executor/enter.h"
#include "poll/wake.h"

namespace pollwake {

using detail::LocalTaskHeader;

// ---------------------------------------------------------------- LocalSpawner

LocalSpawner::LocalSpawner(detail::LocalPoolShared* shared) noexcept : shared_(shared) {
  shared_->acquire();
}
LocalSpawner::LocalSpawner(const LocalSpawner& other) noexcept : LocalSpawner(other.shared_) {}
LocalSpawner& LocalSpawner::operator=(const LocalSpawner& other) noexcept {
  other.shared_->acquire();
  shared_->release();
  shared_ = other.shared_;
  return *this;
}
LocalSpawner::~LocalSpawner() { shared_->release(); }

LocalPool& LocalSpawner::checked_pool() const {
  if (std::this_thread::get_id() != shared_->owner) {
    throw SpawnError::misuse(
        "LocalSpawner::spawn_local: called from a thread other than the LocalPool's "
        "(a LocalPool runs its tasks on the thread that created it; use a ThreadPool "
        "to spawn from anywhere)");
  }
  if (shared_->pool == nullptr) {
    throw SpawnError::shutdown("LocalSpawner::spawn_local: the LocalPool has been dropped");
  }
  return *shared_->pool;
}

void LocalSpawner::adopt(LocalPool& pool, LocalTaskHeader* task) noexcept {
  task->shared = pool.shared_;
  // The task's reference on the shared part, from the pool's stock (taken
  // from the count in batches, so a spawn costs no atomic operation here).
  if (pool.spare_refs_ == 0) {
    pool.shared_->acquire(LocalPool::kRefBatch);
    pool.spare_refs_ = LocalPool::kRefBatch;
  }
  --pool.spare_refs_;
  task->all_next = pool.all_;
  if (pool.all_ != nullptr) pool.all_->all_prev = task;
  pool.all_ = task;
  ++pool.live_;
  pool.push_local(task);  // spawned = woken once: kScheduled is already set
  pool.progress_ = true;
}

// ------------------------------------------------------------------- LocalPool

LocalPool::LocalPool() : shared_(new detail::LocalPoolShared(this)) {}

LocalPool::~LocalPool() {
  if (running_) {
    std::fprintf(stderr,
                 "pollwake: a LocalPool was destroyed while it was running (from inside "
                 "one of its own tasks?); aborting\n");
    std::abort();
  }
  if (std::this_thread::get_id() != shared_->owner) {
    std::fprintf(stderr,
                 "pollwake: a LocalPool was destroyed on a thread other than the one that "
                 "created it (its tasks belong to that thread); aborting\n");
    std::abort();
  }
  if (wake_scopes_ != 0 || detail::local_pool_running == this) {
    std::fprintf(stderr,
                 "pollwake: a LocalPool was destroyed while one of its WakeScopes was open "
                 "(the scope would point at a freed pool); aborting\n");
    std::abort();
  }
  shared_->pool = nullptr;  // from now on spawns throw SpawnError
  // Close the remote stack: later remote wakes drop their own reference.
  for (LocalTaskHeader* t = shared_->close(); t != nullptr;) {
    LocalTaskHeader* next = t->next;
    detail::local_task_release(t);  // the queue's reference
    t = next;
  }
  // Mark every live task done before dropping any future: a future's
  // destructor may wake (or drop the handle of) another task of this pool,
  // and those wakes must then do nothing.
  for (LocalTaskHeader* t = all_; t != nullptr; t = t->all_next) {
    // ORDERING: acq_rel, as in complete().
    t->state.fetch_or(LocalTaskHeader::kDone, std::memory_order_acq_rel);
  }
  for (LocalTaskHeader* t = all_; t != nullptr; t = t->all_next) t->vtable->drop_future(t);
  while (LocalTaskHeader* t = pop_local()) detail::local_task_release(t);  // queue refs
  while (all_ != nullptr) {
    LocalTaskHeader* t = all_;
    all_ = t->all_next;
    detail::local_task_release(t);  // the pool's reference
  }
  shared_->release(spare_refs_ + 1);  // the stock and the pool's own
}

LocalSpawner LocalPool::spawner() const noexcept { return LocalSpawner(shared_); }

void LocalPool::check_thread(const char* method) const {
  if (std::this_thread::get_id() != shared_->owner) {
    throw std::logic_error(std::string("LocalPool::") + method +
                           ": called from a thread other than the one that created the pool");
  }
}

void LocalPool::push_local(LocalTaskHeader* task) noexcept {
  task->next = nullptr;
  if (tail_ == nullptr) {
    head_ = task;
  } else {
    tail_->next = task;
  }
  tail_ = task;
  ++ready_;
}

LocalTaskHeader* LocalPool::pop_local() noexcept {
  LocalTaskHeader* task = head_;
  if (task == nullptr) return nullptr;
  head_ = task->next;  // read before kScheduled is cleared (then a waker owns it)
  if (head_ == nullptr) tail_ = nullptr;
  --ready_;
  return task;
}

void LocalPool::drain_remote() noexcept {
  LocalTaskHeader* task = shared_->take_remote();
  if (task != nullptr) progress_ = true;  // woken by someone else
  while (task != nullptr) {
    LocalTaskHeader* next = task->next;
    push_local(task);
    task = next;
  }
}

// Frees a task whose last reference is gone, on this pool's thread during a
// run: its block goes to the pool's cache (see TaskBlockCache in the header).
void LocalPool::free_task(LocalTaskHeader* task) noexcept {
  task->vtable->dealloc(task, &cache_);
  ++spare_refs_;  // its reference on *shared_ back to the stock: no atomic
}

// `sole_owner`: the caller holds every reference to the task (see
// poll_task), so no waker exists that could read the state concurrently.
void LocalPool::complete(LocalTaskHeader* task, bool sole_owner) noexcept {
  if (sole_owner) {
    // ORDERING: relaxed; nobody else can see the task.
    task->state.store(LocalTaskHeader::kDone, std::memory_order_relaxed);
  } else {
    // ORDERING: acq_rel; wakers that load kDone (relaxed, then CAS acquire)
    // stop queueing the task.
    task->state.fetch_or(LocalTaskHeader::kDone, std::memory_order_acq_rel);
  }
  task->vtable->drop_future(task);
  if (task->all_prev != nullptr) {
    task->all_prev->all_next = task->all_next;
  } else {
    all_ = task->all_next;
  }
  if (task->all_next != nullptr) task->all_next->all_prev = task->all_prev;
  --live_;
  progress_ = true;
  // The pool's reference is released by the caller (with the queue's).
}

// Polls one popped task; true when it completed. Consumes the queue's
// reference. An exception from the future drops the task and propagates.
// [START poll_task]
bool LocalPool::poll_task(LocalTaskHeader* task) {
  // The sole-owner fast path (the common case: a task nobody holds a waker
  // of): an undone task always has the pool's reference and this queue
  // entry's, both ours; if the count is exactly 2 nobody else holds one and
  // nobody can get one (a reference is only made from another), so no other
  // thread can touch the state: plain loads and stores do instead of locked
  // read-modify-writes. The count is read first: ORDERING: acquire, pairs
  // with the acq_rel decrement of the last waker dropped elsewhere, so that
  // waker's wakes (and what it wrote before them) happen before the state
  // load and the poll below.
  std::uint32_t state;
  if (task->refs.load(std::memory_order_acquire) == 2 &&
      // ORDERING: relaxed; with no waker left, only this thread writes it.
      !((state = task->state.load(std::memory_order_relaxed)) & LocalTaskHeader::kDone)) {
    // ORDERING: relaxed; a waker cloned during the poll reaches other
    // threads only through synchronisation that carries this store.
    task->state.store(state & ~LocalTaskHeader::kScheduled, std::memory_order_relaxed);
  } else {
    // The pool's half of the wake protocol: every wake is an acq_rel RMW on
    // the state (local_task_wake), and so is this clear. ORDERING: acq_rel.
    // Acquire: reads the value of the latest wake's RMW (or one later in its
    // release sequence), so the poll sees what every earlier waker wrote,
    // including a wake that found kScheduled still set and coalesced.
    // Release: from here on a waker may set kScheduled and take task->next.
    state = task->state.fetch_and(~LocalTaskHeader::kScheduled, std::memory_order_acq_rel);
  }
  if (state & LocalTaskHeader::kDone) {  // a wake that raced completion
    detail::local_task_release(task);
    return false;
  }
  // Borrowed: the queue's reference keeps the task alive during the poll.
  WakerRef waker(detail::local_task_waker_ref(task));
  Context cx = Context::from_waker(waker);
  current_ = task;
  self_requeued_ = false;
  bool finished;
  try {
    finished = task->vtable->poll(task, cx);
  } catch (...) {
    current_ = nullptr;
    complete(task);
    // The pool's reference, and the queue's unless a self-wake took it.
    detail::local_task_release_n(task, self_requeued_ ? 1 : 2);
    throw;  // like a Rust panic out of LocalPool::run; the pool stays usable
  }
  current_ = nullptr;
  // Finished, not requeued, and still only the pool's and the queue's two
  // references (checked as above): free it without atomics.
  // ORDERING: acquire, as above.
  if (finished && !self_requeued_ && task->refs.load(std::memory_order_acquire) == 2) {
    complete(task, /*sole_owner=*/true);
    free_task(task);
    return true;
  }
  // SAFETY: the queue's reference (unless a self-wake moved it to the new
  // entry), plus the pool's when the task is finished, released at once.
  std::uint32_t refs = self_requeued_ ? 0 : 1;
  if (finished) {
    complete(task);
    ++refs;
  }
  if (refs != 0) detail::local_task_release_n(task, refs);
  return finished;
}
// [END poll_task]

namespace {
// Marks this thread as running `pool` for the duration of a run* call.
class RunningScope {
 public:
  RunningScope(LocalPool* pool, bool& running)
      : running_(running), prev_(detail::local_pool_running) {
    detail::local_pool_running = pool;
    running_ = true;
  }
  ~RunningScope() {
    detail::local_pool_running = prev_;  // a WakeScope open around the run
    running_ = false;
  }

 private:
  bool& running_;
  LocalPool* prev_;
};
}  // namespace

// Runs passes until the mode's stop condition: kOne stops at the first
// completion (returns true); kStalled and kOne stop after a pass with no
// progress or when nothing is ready; kRun runs one pass.
// [START run_passes]
bool LocalPool::run_passes(Mode mode, std::size_t* budget) {
  for (;;) {
    progress_ = false;
    drain_remote();
    if (ready_ == 0) return false;
    for (std::size_t n = ready_; n > 0; --n) {
      if (budget != nullptr) {
        if (*budget == 0) return false;  // the rest stay queued, in order
        --*budget;
      }
      bool done = poll_task(pop_local());
      if (done && mode == Mode::kOne) return true;
    }
    if (mode == Mode::kRun || !progress_) return false;
  }
}
// [END run_passes]

void LocalPool::run_loop(MainRef main) {
  check_thread(main.f != nullptr ? "run_until" : "run");
  Enter guard = enter();  // throws EnterError inside another executor
  RunningScope scope(this, running_);
  Waker main_waker = Waker::from_raw(shared_->main_waker());
  Context main_cx = Context::from_waker(main_waker);
  // ORDERING: relaxed; only this thread resets the flag; the main future is
  // polled first anyway.
  // [START run_loop]
  shared_->main_woken.store(true, std::memory_order_relaxed);
  for (;;) {
    // ORDERING: acquire, pairs with the main waker's release store.
    if (main.f != nullptr && shared_->main_woken.exchange(false, std::memory_order_acquire)) {
      if (main.poll(main.f, main_cx)) return;
    }
    run_passes(Mode::kRun);
    if (ready_ > 0) continue;
    if (main.f == nullptr && live_ == 0) return;  // run(): nothing left
    // ORDERING: relaxed; a hint only: the acquire exchange above reads it.
    if (main.f != nullptr && shared_->main_woken.load(std::memory_order_relaxed)) continue;
    // Invariant: every wake after the checks above unparks the parker
    // (push_remote and the main waker call unpark after publishing), so this
    // park returns at once if one came in between: no lost wakeup.
    POLLWAKE_RECORD_PARKED(this, shared_->parker.park());
  }
  // [END run_loop]
}

void LocalPool::run() { run_loop(MainRef{nullptr, nullptr}); }

bool LocalPool::try_run_one() {
  check_thread("try_run_one");
  Enter guard = enter();
  RunningScope scope(this, running_);
  return run_passes(Mode::kOne);
}

// [START run_at_most]
std::size_t LocalPool::run_until_stalled_at_most(std::size_t max_polls) {
  check_thread("run_until_stalled_at_most");
  Enter guard = enter();
  RunningScope scope(this, running_);
  std::size_t budget = max_polls;
  run_passes(Mode::kStalled, &budget);
  return max_polls - budget;
}
// [END run_at_most]

bool LocalPool::has_ready() const noexcept { return ready_ > 0 || shared_->has_remote(); }

void LocalPool::set_remote_waker(Waker waker) {
  check_thread("set_remote_waker");
  if (live_ != 0) {
    throw std::logic_error("LocalPool::set_remote_waker: the pool already has tasks");
  }
  // A plain field: no other thread can wake a task of this pool yet, and
  // the wakers it will get later are handed over through synchronization
  // that carries this write.
  shared_->remote_waker.emplace(std::move(waker));
}

LocalPool::WakeScope::WakeScope(LocalPool* pool) noexcept
    : pool_(pool), prev_(detail::local_pool_running) {
  detail::local_pool_running = pool;
  ++pool->wake_scopes_;
}
LocalPool::WakeScope::~WakeScope() {
  detail::local_pool_running = prev_;
  --pool_->wake_scopes_;
}

LocalPool::WakeScope LocalPool::wake_scope() {
  check_thread("wake_scope");
  return WakeScope(this);
}

void LocalPool::run_until_stalled() {
  check_thread("run_until_stalled");
  Enter guard = enter();
  RunningScope scope(this, running_);
  run_passes(Mode::kStalled);
}

}  // namespace pollwake
