// executor/thread_pool.cc: the workers, run queues, task registry and the
// task state machine behind executor/thread_pool.h.
#include "executor/thread_pool.h"

#include <pthread.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <system_error>
#include <thread>
#include <vector>

#include "executor/detail/run_queue.h"
#include "executor/enter.h"
#include "poll/raw_waker.h"
#include "poll/wake.h"

namespace pollwake {
namespace detail {
namespace {

// [START task_states]
// The task state machine (futures-rs's UnparkMutex, plus shutdown).
// The thread that moves a task into POLLING owns the right to poll it (or,
// at shutdown, to destroy it) until it moves the task out again; so a task
// is never polled by two threads at once.
enum TaskState : std::uint32_t {
  WAITING = 0,   // -> POLLING (a wake queues it) or COMPLETE (pool shut down)
  POLLING = 1,   // -> WAITING, REPOLL or COMPLETE
  REPOLL = 2,    // -> POLLING (the worker polls again, exactly once), by an
                 //    acquire exchange: never a store (see below)
  COMPLETE = 3,  // no way out: wakes are ignored
};
// [END task_states]
// Who makes each move:
//   WAITING  -> POLLING   a waker (wake / wake_by_ref), which then queues the
//                         task; spawn creates tasks directly in POLLING.
//   POLLING  -> REPOLL    a waker, while the task is queued or being polled.
//   REPOLL   -> POLLING   the worker: at the start of a poll (the wake came
//                         while the task was queued; this poll serves it), or
//                         after a Pending poll (it queues the task again).
//                         Both are acquire exchanges, never stores: a wake
//                         may set REPOLL again at any moment, and its writes
//                         must reach the poll that serves it.
//   POLLING  -> WAITING   the worker, after a Pending poll with no wake.
//   POLLING/REPOLL -> COMPLETE  the worker after Ready or an exception, or
//                         shutdown for a queued task.
//   WAITING  -> COMPLETE  shutdown, for a task nobody will wake.

constexpr std::size_t kRegistryShards = 8;
constexpr int kSpins = 32;          // idle rounds (with yield) before sleeping
constexpr std::size_t kMaxSteal = 64;  // most tasks one steal moves

// A run queue: an intrusive FIFO of tasks in POLLING state.
using TaskQueue = RunQueue<TaskHeader>;

// A registry shard: an intrusive doubly linked list of the unfinished tasks
// that have returned Pending at least once (the others are always in a queue
// or being polled), so that shutdown can find and destroy the tasks that
// nobody will ever wake. A worker registers into shard (index % shards).
struct alignas(64) RegistryShard {
  std::mutex mu;
  TaskHeader* head = nullptr;  // under mu
};

// Per-thread: which pool (if any) this thread works for.
struct WorkerTls {
  PoolShared* pool = nullptr;
  std::size_t index = 0;
  bool cleanup_on_exit = false;  // this worker dropped the last handle
};
thread_local WorkerTls tls_worker;
// Round-robin counter for threads that are not workers of the target pool
// (spawners, foreign wakers). Per thread, so it is never contended.
thread_local std::uint32_t tls_round_robin = 0;

}  // namespace

struct PoolShared {
  explicit PoolShared(std::size_t n) : size(n), queues(new TaskQueue[n]) {}

  const std::size_t size;
  std::unique_ptr<TaskQueue[]> queues;
  std::array<RegistryShard, kRegistryShards> registry;

  std::atomic<bool> closed{false};  // set once, when the last handle goes
  // Idle workers: `searching` are awake and looking for work, `sleepers`
  // wait (or are about to wait) on sleep_cv. See idle() and notify().
  std::atomic<std::uint32_t> searching{0};
  std::atomic<std::uint32_t> sleepers{0};
  std::mutex sleep_mu;
  std::condition_variable sleep_cv;

  std::vector<pthread_t> threads;  // written by create() before any handle exists
  std::string name_prefix;
  bool named = false;
  std::function<void(std::size_t)> after_start;
  std::function<void(std::size_t)> before_stop;
  std::function<void(std::exception_ptr)> panic_handler;
};

namespace {

void report_panic(PoolShared* pool, std::exception_ptr error) noexcept {
  try {
    if (pool->panic_handler) {
      pool->panic_handler(error);
      return;
    }
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "pollwake::ThreadPool: a spawn_ok task threw: %s\n", e.what());
    } catch (...) {
      std::fprintf(stderr, "pollwake::ThreadPool: a spawn_ok task threw a non-std exception\n");
    }
  } catch (...) {
    std::fprintf(stderr, "pollwake::ThreadPool: the panic handler threw; exception dropped\n");
  }
}

bool has_work(PoolShared* pool) noexcept {
  for (std::size_t i = 0; i < pool->size; ++i) {
    // ORDERING: seq_cst, one half of the sleep handshake with notify(): an
    // idle worker increments `sleepers` (seq_cst) and then reads the queue
    // lengths; a pusher stores a length, issues a seq_cst fence and then reads
    // `searching`/`sleepers`. Either the worker sees the new task or the
    // pusher sees the worker and wakes it.
    if (pool->queues[i].len_seq_cst() != 0) return true;
  }
  return false;
}

// notify: wakes one sleeping worker if no worker is awake and looking.
// A pusher calls it while it holds the queue's lock: a waker on a foreign
// thread has no reference to the pool, and the lock is what keeps the pool
// alive until it is done (shutdown drains every queue under its lock before
// it frees anything). Workers may call it without a lock (they hold a
// reference to the pool).
void notify(PoolShared* pool) {
  // ORDERING: seq_cst fence after the length store; see has_work().
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (pool->searching.load(std::memory_order_seq_cst) != 0) return;  // it will find the task
  if (pool->sleepers.load(std::memory_order_seq_cst) == 0) return;   // all busy: they come back
  // Taking sleep_mu means a worker that counted itself a sleeper is either
  // already waiting on sleep_cv or still holds sleep_mu before its final
  // check of has_work(); either way it cannot miss this task.
  std::lock_guard lock(pool->sleep_mu);
  pool->sleep_cv.notify_one();
}

void push(PoolShared* pool, std::size_t q, TaskHeader* task) {
  pool->queues[q].push(task, [pool] { notify(pool); });  // under the lock: see notify()
}

// schedule: queues a task the caller has just moved into POLLING. A worker of
// the task's pool queues on its own queue; any other thread round-robin.
void schedule(TaskHeader* task) {
  PoolShared* pool = task->pool;  // valid: the task is unfinished
  std::size_t q = tls_worker.pool == pool ? tls_worker.index : tls_round_robin++ % pool->size;
  push(pool, q, task);
}

void register_task(PoolShared* pool, std::size_t me, TaskHeader* task) {
  task->registered = true;
  task->shard = static_cast<std::uint32_t>(me % kRegistryShards);
  RegistryShard& shard = pool->registry[task->shard];
  std::lock_guard lock(shard.mu);
  task->reg_prev = nullptr;
  task->reg_next = shard.head;
  if (shard.head != nullptr) shard.head->reg_prev = task;
  shard.head = task;
}

void unlink_locked(RegistryShard& shard, TaskHeader* task) {
  if (task->reg_prev != nullptr) {
    task->reg_prev->reg_next = task->reg_next;
  } else {
    shard.head = task->reg_next;
  }
  if (task->reg_next != nullptr) task->reg_next->reg_prev = task->reg_prev;
  task->reg_prev = task->reg_next = nullptr;
  task->registered = false;
}

// finish: the caller owns the task's POLLING (or REPOLL) permission and the
// task is done (Ready, threw, or canceled at shutdown): COMPLETE, leave the
// registry, give back the pool's reference.
void finish(TaskHeader* task) {
  // ORDERING: acq_rel exchange; a wake that set REPOLL meanwhile is simply
  // overwritten (a wake after completion is ignored).
  task->state.exchange(COMPLETE, std::memory_order_acq_rel);
  if (task->registered) {
    RegistryShard& shard = task->pool->registry[task->shard];
    std::lock_guard lock(shard.mu);
    unlink_locked(shard, task);
  }
  task_drop_ref(task);  // the pool's reference; may free the task
}

// wake_task: Waker::wake_by_ref of a ThreadPool task.
// [START wake_task]
void wake_task(TaskHeader* task) {
  std::uint32_t s = task->state.load(std::memory_order_relaxed);
  for (;;) {
    switch (s) {
      case WAITING:
        // ORDERING: acq_rel. Acquire: this thread will hand the task to a
        // worker, which must see the previous poll's writes (released by the
        // worker's POLLING -> WAITING). Release: the waker's own writes (the
        // event it signals) reach the worker through the queue's mutex too.
        if (task->state.compare_exchange_weak(s, POLLING, std::memory_order_acq_rel,
                                              std::memory_order_relaxed)) {
          schedule(task);  // we own POLLING now: queue it exactly once
          return;
        }
        break;
      case POLLING:
      case REPOLL:
        // ORDERING: release, and an RMW even for REPOLL -> REPOLL: the worker
        // reads REPOLL with an acquire RMW, and this waker's writes before
        // the wake must be visible to the poll that serves it.
        if (task->state.compare_exchange_weak(s, REPOLL, std::memory_order_release,
                                              std::memory_order_relaxed)) {
          POLLWAKE_RECORD_ALREADY_QUEUED();
          return;  // the worker that holds the task will poll it again
        }
        break;
      default:  // COMPLETE: ignored; the pool may even be gone
        return;
    }
  }
}
// [END wake_task]

// The waker vtable of ThreadPool tasks: data is the TaskHeader.
// SAFETY (all four): `data` is a TaskHeader* on which the caller owns (wake,
// drop) or borrows (clone, wake_by_ref) one reference, so it is alive.
TaskHeader* header(const void* data) noexcept {
  return const_cast<TaskHeader*>(static_cast<const TaskHeader*>(data));
}
RawWaker task_waker_clone(const void* data);
void task_waker_wake(const void* data) {
  TaskHeader* task = header(data);
  try {
    wake_task(task);
  } catch (...) {
    task_drop_ref(task);  // wake consumes the waker even when it throws
    throw;
  }
  task_drop_ref(task);
}
void task_waker_wake_by_ref(const void* data) { wake_task(header(data)); }
void task_waker_drop(const void* data) { task_drop_ref(header(data)); }
const RawWakerVTable kTaskWakerVTable{&task_waker_clone, &task_waker_wake,
                                      &task_waker_wake_by_ref, &task_waker_drop};
RawWaker task_waker_clone(const void* data) {
  // ORDERING: relaxed; the caller's reference keeps the task alive.
  header(data)->refs.fetch_add(1, std::memory_order_relaxed);
  return RawWaker{data, &kTaskWakerVTable};
}

// run_task: polls a task the caller owns (state POLLING or REPOLL).
void run_task(PoolShared* pool, std::size_t me, TaskHeader* task) {
  // [START run_task]
  // A wake that came while the task sat in the queue is served by this poll.
  // ORDERING: acquire exchange, so the waker's writes are visible to the poll.
  if (task->state.load(std::memory_order_relaxed) == REPOLL) {
    task->state.exchange(POLLING, std::memory_order_acquire);
  }
  WakerRef waker(RawWaker{task, &kTaskWakerVTable});  // borrowed: no refcount
  Context cx = Context::from_waker(waker);
  bool done = false;
  std::exception_ptr panic;
  try {
    done = task->vtable->poll(task, cx);
  } catch (...) {
    panic = std::current_exception();
  }
  if (panic) {
    // The task's panic: it finishes; the worker lives on. Handled after the
    // catch block has ended and moved (not copied) to the handle, so that
    // this thread holds no reference to the exception once the handle can
    // see it. (The exception's reference count lives in the uninstrumented
    // C++ runtime; a worker that dropped the last reference after the
    // awaiting thread had read it would look like a race to TSan.)
    done = true;
    if (!task->vtable->fail(task, panic)) report_panic(pool, std::move(panic));
  }
  if (done) {
    finish(task);
    return;
  }
  // Pending: from here a wake may come from anywhere, or never; join the
  // registry so that shutdown can find the task.
  if (!task->registered) register_task(pool, me, task);
  std::uint32_t expected = POLLING;
  // ORDERING: release on success, so the next poller (whoever wakes the task
  // next) sees this poll's writes; acquire on failure, to see the writes of
  // the waker that set REPOLL. After a success this thread must not touch the
  // task again: another worker may already own it.
  if (task->state.compare_exchange_strong(expected, WAITING, std::memory_order_release,
                                          std::memory_order_acquire)) {
    return;
  }
  // expected == REPOLL: a wake came during the poll; poll exactly once more,
  // after the tasks already queued here. ORDERING: acquire exchange, not a
  // store: another wake may land between the failed CAS and this move
  // (REPOLL -> REPOLL, a release RMW). A plain store would end that wake's
  // release sequence unread, and the next poll (which starts with a relaxed
  // load that now sees POLLING) would have acquired its writes from nobody.
  // The exchange reads the latest value, so it acquires every such wake.
  // (tests/model/thread_pool.pml, -DMEMORY -DBROKEN_RELAXED_REPOLL_STORE.)
  task->state.exchange(POLLING, std::memory_order_acquire);
  push(pool, me, task);
  // [END run_task]
}

// find_task: a task from this worker's own queue, else half of another
// worker's queue (then the first of those). nullptr when every queue was
// empty as this worker looked.
TaskHeader* find_task(PoolShared* pool, std::size_t me) {
  if (TaskHeader* task = pool->queues[me].pop()) return task;
  for (std::size_t k = 1; k < pool->size; ++k) {
    std::size_t victim = (me + k) % pool->size;
    if (pool->queues[victim].steal_half(pool->queues[me], kMaxSteal)) {
      if (TaskHeader* task = pool->queues[me].pop()) return task;
    }
  }
  return nullptr;
}

// idle: returns when there may be work, or the pool is closing.
void idle(PoolShared* pool) {
  // ORDERING (all counters here): seq_cst; see has_work() and notify().
  pool->searching.fetch_add(1, std::memory_order_seq_cst);
  for (int i = 0; i < kSpins; ++i) {
    if (pool->closed.load(std::memory_order_seq_cst) || has_work(pool)) {
      pool->searching.fetch_sub(1, std::memory_order_seq_cst);
      return;
    }
    std::this_thread::yield();
  }
  std::unique_lock lock(pool->sleep_mu);
  pool->sleepers.fetch_add(1, std::memory_order_seq_cst);
  pool->searching.fetch_sub(1, std::memory_order_seq_cst);
  // The final check, after counting ourselves a sleeper: a task pushed before
  // this point is seen here; one pushed after sees `sleepers` and notifies
  // under sleep_mu, which we hold until wait() releases it.
  if (!pool->closed.load(std::memory_order_seq_cst) && !has_work(pool)) {
    POLLWAKE_RECORD_PARKED(pool, pool->sleep_cv.wait(lock));  // one wait; a spurious return just loops
  }
  pool->sleepers.fetch_sub(1, std::memory_order_seq_cst);
}

// [START run_worker]
void run_worker(PoolShared* pool, std::size_t me) {
  Enter guard = enter();  // block_on inside a task throws EnterError
  for (;;) {
    if (pool->closed.load(std::memory_order_acquire)) return;
    TaskHeader* task = find_task(pool, me);
    if (task == nullptr) {
      idle(pool);
      continue;
    }
    // This worker stops searching with a task in hand. If work is left in
    // any queue, make sure another worker comes for it: notify() wakes a
    // sleeper unless one is searching (which will find it). Without this, a
    // push that skipped its wake-up because this worker was searching could
    // leave a task queued while a worker sleeps and this one polls.
    if (has_work(pool)) notify(pool);
    run_task(pool, me, task);
  }
}
// [END run_worker]

// cleanup: after every worker has stopped polling, destroys the unfinished
// tasks. Loops until the registry is empty: a waker on another thread may be
// between its WAITING -> POLLING and its push; that task shows up in a
// queue a moment later.
void cleanup(PoolShared* pool) {
  for (;;) {
    for (std::size_t q = 0; q < pool->size; ++q) {
      while (TaskHeader* batch = pool->queues[q].take_all()) {
        while (batch != nullptr) {
          TaskHeader* task = batch;
          batch = task->next;
          task->next = nullptr;
          task->vtable->cancel(task);  // we own POLLING: destroy the future
          finish(task);
        }
      }
    }
    bool empty = true;
    for (RegistryShard& shard : pool->registry) {
      TaskHeader* claimed = nullptr;  // chained through `next` (not queued)
      {
        std::lock_guard lock(shard.mu);
        for (TaskHeader* t = shard.head; t != nullptr;) {
          TaskHeader* following = t->reg_next;
          std::uint32_t s = WAITING;
          // ORDERING: acquire, to see the last poll's writes before
          // destroying the future.
          if (t->state.compare_exchange_strong(s, COMPLETE, std::memory_order_acquire)) {
            unlink_locked(shard, t);
            t->next = claimed;
            claimed = t;
          } else {
            empty = false;  // POLLING: a waker is about to queue it
          }
          t = following;
        }
      }
      // Destroy outside the lock: a future's destructor may wake or drop
      // other tasks.
      while (claimed != nullptr) {
        TaskHeader* t = claimed;
        claimed = t->next;
        t->next = nullptr;
        t->vtable->cancel(t);
        task_drop_ref(t);  // the pool's reference
      }
    }
    if (empty) {
      // A destructor above may have woken (queued) a task after its shard
      // was swept; one more round finds it.
      bool queued = has_work(pool);
      if (!queued) return;
    }
    std::this_thread::yield();
  }
}

struct WorkerStart {
  Arc<PoolShared> pool;
  std::size_t index;
};

void call_hook(PoolShared* pool, const std::function<void(std::size_t)>& hook, std::size_t i) {
  if (!hook) return;
  try {
    hook(i);
  } catch (...) {
    report_panic(pool, std::current_exception());
  }
}

void* worker_main(void* arg) {
  std::unique_ptr<WorkerStart> start(static_cast<WorkerStart*>(arg));
  PoolShared* pool = start->pool.get();
  std::size_t me = start->index;
  if (pool->named) {
    std::string name = pool->name_prefix + std::to_string(me);
    name.resize(std::min<std::size_t>(name.size(), 15));  // Linux's limit
    pthread_setname_np(pthread_self(), name.c_str());
  }
  tls_worker = WorkerTls{pool, me, false};
  call_hook(pool, pool->after_start, me);
  run_worker(pool, me);
  call_hook(pool, pool->before_stop, me);
  if (tls_worker.cleanup_on_exit) cleanup(pool);  // we dropped the last handle
  tls_worker = WorkerTls{};
  return nullptr;  // `start` drops this worker's reference to the pool
}

// shutdown: the last ThreadPool handle is gone.
void shutdown(PoolShared* pool) {
  {
    std::lock_guard lock(pool->sleep_mu);
    pool->closed.store(true, std::memory_order_seq_cst);
    pool->sleep_cv.notify_all();
  }
  bool on_worker = tls_worker.pool == pool;
  for (std::size_t i = 0; i < pool->threads.size(); ++i) {
    if (on_worker && i == tls_worker.index) {
      pthread_detach(pool->threads[i]);  // a thread cannot join itself
    } else {
      pthread_join(pool->threads[i], nullptr);
    }
  }
  if (on_worker) {
    tls_worker.cleanup_on_exit = true;  // after its current poll returns
  } else {
    cleanup(pool);
  }
}

}  // namespace

void task_drop_ref(TaskHeader* task) noexcept {
  // ORDERING: acq_rel, as Arc's decrement: every use of the task happens
  // before the thread that drops the last reference frees it.
  if (task->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) task->vtable->destroy(task);
}

void pool_spawn(PoolShared* pool, TaskHeader* task) {
  task->pool = pool;
  // Spawned tasks start queued, i.e. POLLING (the spawner owns the poll
  // permission until a worker takes it); no waker exists yet. It is not in
  // the registry: until its first Pending it is always in a queue or being
  // polled, where shutdown finds it anyway.
  task->state.store(POLLING, std::memory_order_relaxed);
  schedule(task);
}

}  // namespace detail

// ThreadPool::Handle: shared by all copies of a ThreadPool; its destructor is
// "the last handle went".
struct ThreadPool::Handle {
  explicit Handle(Arc<detail::PoolShared> p) : pool(std::move(p)) {}
  ~Handle() { detail::shutdown(pool.get()); }
  Arc<detail::PoolShared> pool;
};

ThreadPool::ThreadPool() : ThreadPool(ThreadPoolBuilder().create()) {}
ThreadPool::ThreadPool(Arc<Handle> handle) noexcept
    : handle_(std::move(handle)), pool_(handle_->pool.get()) {}
ThreadPool::ThreadPool(const ThreadPool& other) noexcept = default;
ThreadPool::ThreadPool(ThreadPool&& other) noexcept
    : handle_(std::move(other.handle_)), pool_(std::exchange(other.pool_, nullptr)) {}
ThreadPool& ThreadPool::operator=(const ThreadPool& other) noexcept {
  ThreadPool copy(other);
  return *this = std::move(copy);
}
ThreadPool& ThreadPool::operator=(ThreadPool&& other) noexcept {
  if (this != &other) {
    ThreadPool old(std::move(*this));  // may shut down the old pool, here
    handle_ = std::move(other.handle_);
    pool_ = std::exchange(other.pool_, nullptr);
  }
  return *this;
}
ThreadPool::~ThreadPool() = default;

ThreadPoolBuilder ThreadPool::builder() { return ThreadPoolBuilder(); }

std::size_t ThreadPool::pool_size() const noexcept { return pool_ == nullptr ? 0 : pool_->size; }

ThreadPool::PoolRef ThreadPool::checked_pool() const {
  if (pool_ == nullptr) throw std::logic_error("ThreadPool: spawn on a moved-from ThreadPool");
  return pool_;
}

ThreadPoolBuilder::ThreadPoolBuilder()
    : pool_size_(std::max(1u, std::thread::hardware_concurrency())) {}

ThreadPoolBuilder& ThreadPoolBuilder::pool_size(std::size_t size) {
  if (size == 0) throw std::invalid_argument("ThreadPoolBuilder::pool_size: there must be at least one thread");
  pool_size_ = size;
  return *this;
}
ThreadPoolBuilder& ThreadPoolBuilder::name_prefix(std::string prefix) {
  name_prefix_ = std::move(prefix);
  named_ = true;
  return *this;
}
ThreadPoolBuilder& ThreadPoolBuilder::stack_size(std::size_t bytes) {
  stack_size_ = bytes;
  return *this;
}
ThreadPoolBuilder& ThreadPoolBuilder::after_start(std::function<void(std::size_t)> f) {
  after_start_ = std::move(f);
  return *this;
}
ThreadPoolBuilder& ThreadPoolBuilder::before_stop(std::function<void(std::size_t)> f) {
  before_stop_ = std::move(f);
  return *this;
}
ThreadPoolBuilder& ThreadPoolBuilder::panic_handler(std::function<void(std::exception_ptr)> f) {
  panic_handler_ = std::move(f);
  return *this;
}

ThreadPool ThreadPoolBuilder::create() {
  auto pool = Arc<detail::PoolShared>::make(pool_size_);
  pool->name_prefix = name_prefix_;
  pool->named = named_;
  pool->after_start = after_start_;
  pool->before_stop = before_stop_;
  pool->panic_handler = panic_handler_;

  pthread_attr_t attr;
  pthread_attr_init(&attr);
  int err = 0;
  if (stack_size_ != 0) err = pthread_attr_setstacksize(&attr, stack_size_);
  for (std::size_t i = 0; err == 0 && i < pool_size_; ++i) {
    auto* start = new detail::WorkerStart{pool, i};
    pthread_t thread;
    err = pthread_create(&thread, &attr, &detail::worker_main, start);
    if (err != 0) {
      delete start;
    } else {
      pool->threads.push_back(thread);
    }
  }
  pthread_attr_destroy(&attr);
  // From here `threads` is only read. The Handle (even on failure) shuts the
  // started workers down and joins them when it goes.
  ThreadPool result(Arc<ThreadPool::Handle>::make(pool));
  if (err != 0) {
    throw std::system_error(err, std::generic_category(),
                            "ThreadPoolBuilder::create: cannot start a worker thread");
  }
  return result;
}

}  // namespace pollwake
