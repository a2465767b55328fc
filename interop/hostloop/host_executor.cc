// interop/hostloop/host_executor.cc: the wake path, run_ready() and
// shutdown() of HostExecutor (host_executor.h says what they promise).
#include "interop/hostloop/host_executor.h"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>

#include "poll/context.h"
#include "poll/wake.h"
#include "poll/waker.h"

namespace pollwake::hostloop {

namespace {
// The executor whose run_ready() is on this thread's stack, if any: lets the
// destructor recognise "destroyed from inside one of its own tasks".
thread_local const HostExecutor* tl_running = nullptr;
}  // namespace

namespace detail {

// [START hostloop_wake]
void HostTask::wake_by_ref() const {
  // ORDERING: acq_rel. Release: a waker that finds the task already queued
  // returns at once, so whatever it wrote before waking must reach the poll
  // through this flag: run_ready()'s acq_rel exchange that clears it reads
  // this write (or a later one in its release sequence) and so happens after
  // it. Acquire: pairs with that clearing exchange, so a waker that sees
  // `false` queues the task again after the poll began.
  if (queued.exchange(true, std::memory_order_acq_rel)) return;  // already queued
  // SAFETY: `this` is alive (the caller holds a reference through its Waker);
  // the queue takes a new strong reference of its own.
  Arc<HostTask>::increment_strong_count(this);
  shared->schedule(Arc<HostTask>::from_raw(this));
}

void HostShared::schedule(Arc<HostTask> task) {
  {
    std::lock_guard<std::mutex> lock(mu);
    if (closed) return;  // the executor is gone: the wake is ignored
    ready.push_back(std::move(task));
  }
  notify_once();
}

void HostShared::notify_once() {
  // Coalescing: only the wake that flips `notified` from false to true calls
  // the hook; run_ready() clears it before it takes its batch.
  // ORDERING: relaxed suffices. The flag guards no data (the queue is under
  // `mu`). What must hold is "a task pushed after run_ready() took its batch
  // finds the flag clear or set by a later notifier", and it does: the push
  // above comes after that batch swap in `mu`'s order, so run_ready()'s
  // clearing store happens before this exchange, and by write-read coherence
  // a read-modify-write reads that store or one later in the flag's
  // modification order. The hook itself publishes nothing: the host learns
  // of the work through the queue, read under `mu` in run_ready().
  if (notified.exchange(true, std::memory_order_relaxed)) return;
  std::lock_guard<std::mutex> lock(notify_mu);
  if (!notify) return;  // shut down: the host may already be gone
  // ORDERING: relaxed; a statistics counter, read as a snapshot.
  notify_calls.fetch_add(1, std::memory_order_relaxed);
  try {
    notify();
  } catch (...) {
    // The host was not signalled: leaving the flag set would swallow every
    // later wake until some run_ready() happened to clear it (a lost
    // wakeup). Clear it so the next wake calls the hook again, and let the
    // caller (spawn, or the waker's caller) see the error; the task stays
    // queued.
    // ORDERING: relaxed, as above: the flag guards no data.
    notified.store(false, std::memory_order_relaxed);
    throw;
  }
}
// [END hostloop_wake]

void HostShared::spawn(LocalBoxFuture<Unit> future, std::function<void(absl::Status)> on_done) {
  Arc<HostShared> self = [this] {
    // SAFETY: `this` is alive (the caller holds an Arc to it); the task
    // takes a strong reference of its own.
    Arc<HostShared>::increment_strong_count(this);
    return Arc<HostShared>::from_raw(this);
  }();
  Arc<HostTask> task = Arc<HostTask>::make(std::move(self), std::move(future), std::move(on_done));
  // ORDERING: relaxed; the task is not shared yet, the lock below publishes it.
  task->queued.store(true, std::memory_order_relaxed);
  bool refused = false;
  {
    std::lock_guard<std::mutex> lock(mu);
    refused = closed;
    if (!refused) {
      live.emplace(task.get(), task);
      ready.push_back(std::move(task));
    }
  }
  // Refused: `task` (and its future) dies on this thread while the exception
  // unwinds; the future was promised to be movable between threads.
  if (refused) throw SpawnError::shutdown("HostExecutor: spawn after shutdown");
  notify_once();
}

}  // namespace detail

HostExecutor::HostExecutor(std::function<void()> notify)
    : shared_(notify ? Arc<detail::HostShared>::make(std::move(notify))
                     : throw std::invalid_argument("HostExecutor: empty notify hook")),
      owner_(std::this_thread::get_id()) {}

HostExecutor::~HostExecutor() {
  if (tl_running == this) {
    std::fputs("HostExecutor: destroyed from inside one of its own tasks; aborting\n", stderr);
    std::abort();
  }
  shutdown();
}

void HostExecutor::check_owner(const char* what) const {
  if (std::this_thread::get_id() != owner_) {
    throw std::logic_error(std::string("HostExecutor::") + what +
                           ": called from a thread that does not own the executor");
  }
}

void HostExecutor::spawn(BoxFuture<Unit> future, std::function<void(absl::Status)> on_done) {
  shared_->spawn(LocalBoxFuture<Unit>(std::move(future)), std::move(on_done));
}

void HostExecutor::spawn_local(LocalBoxFuture<Unit> future,
                               std::function<void(absl::Status)> on_done) {
  if (std::this_thread::get_id() != owner_) {
    throw SpawnError::misuse("HostExecutor::spawn_local: not on the executor's thread");
  }
  shared_->spawn(std::move(future), std::move(on_done));
}

// [START hostloop_run_ready]
std::size_t HostExecutor::run_ready() {
  check_owner("run_ready");
  if (running_) throw std::logic_error("HostExecutor::run_ready: called from inside a task");
  if (shut_down_) throw std::logic_error("HostExecutor::run_ready: after shutdown");
  // Clear first, then take the batch: a wake that misses this batch sees the
  // flag clear and notifies again (the argument is in notify_once).
  // ORDERING: relaxed, as in notify_once: the lock below orders it.
  shared_->notified.store(false, std::memory_order_relaxed);
  std::deque<Arc<detail::HostTask>> batch;
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    batch.swap(shared_->ready);
  }
  running_ = true;
  tl_running = this;
  struct Reset {
    HostExecutor* self;
    ~Reset() {
      self->running_ = false;
      tl_running = nullptr;
    }
  } reset{this};
  std::size_t polled = 0;
  for (Arc<detail::HostTask>& task : batch) {
    if (task->finished) continue;  // a stale waker queued a finished task
    // ORDERING: acq_rel, the other side of HostTask::wake_by_ref: acquire
    // makes every write made before a wake of this task visible to the poll
    // below; release lets a wake that reads `false` queue it again.
    task->queued.exchange(false, std::memory_order_acq_rel);
    WakerRef waker = waker_ref(task);
    Context cx = Context::from_waker(waker);
    ++polled;
    try {
      if ((*task->future).poll(cx).is_ready()) finish(*task, absl::OkStatus());
    } catch (const std::exception& e) {
      finish(*task, absl::InternalError(e.what()));
    } catch (...) {
      finish(*task, absl::InternalError("task threw a non-std::exception"));
    }
  }
  return polled;
}
// [END hostloop_run_ready]

void HostExecutor::finish(detail::HostTask& task, absl::Status status) {
  task.finished = true;
  task.future.reset();  // destructors run here, on the owner thread
  std::function<void(absl::Status)> on_done = std::move(task.on_done);
  Arc<detail::HostTask> keep;  // dropped after the lock is released
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    auto it = shared_->live.find(&task);
    if (it != shared_->live.end()) {
      keep = std::move(it->second);
      shared_->live.erase(it);
    }
  }
  if (on_done) {
    // An exception from on_done must not leave run_ready(): the rest of the
    // batch is marked unqueued-but-waiting and would never be polled again.
    try {
      on_done(std::move(status));
    } catch (const std::exception& e) {
      ++failed_;
      std::fprintf(stderr, "HostExecutor: on_done threw: %s\n", e.what());
    } catch (...) {
      ++failed_;
      std::fputs("HostExecutor: on_done threw a non-std::exception\n", stderr);
    }
  } else if (!status.ok()) {
    ++failed_;
    std::fprintf(stderr, "HostExecutor: a task failed: %s\n", std::string(status.message()).c_str());
  }
}

void HostExecutor::shutdown() {
  check_owner("shutdown");
  if (running_) throw std::logic_error("HostExecutor::shutdown: called from inside a task");
  if (shut_down_) return;
  shut_down_ = true;
  {
    // Waits for a notify call in progress; no call starts after this.
    std::lock_guard<std::mutex> lock(shared_->notify_mu);
    shared_->notify = nullptr;
  }
  std::deque<Arc<detail::HostTask>> ready;
  absl::flat_hash_map<const detail::HostTask*, Arc<detail::HostTask>> live;
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->closed = true;  // from here on wakes and spawns are refused
    ready.swap(shared_->ready);
    live.swap(shared_->live);
  }
  // Drop the futures here, on the owner thread. Their destructors may wake
  // tasks (ignored: closed) or run Promise cancel hooks.
  for (auto& [ptr, task] : live) {
    task->finished = true;
    task->future.reset();
    task->on_done = nullptr;
  }
  // `ready` and `live` die here; a task shell still referenced by a waker
  // elsewhere lives on, holding `shared_`, until that waker is dropped.
}

std::uint64_t HostExecutor::notify_calls() const noexcept {
  // ORDERING: relaxed; a statistics snapshot.
  return shared_->notify_calls.load(std::memory_order_relaxed);
}

std::size_t HostExecutor::live_tasks() const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  return shared_->live.size();
}

}  // namespace pollwake::hostloop
