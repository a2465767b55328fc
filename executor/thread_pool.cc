// executor/thread_pool.cc: the workers, run queues and task registry behind
// executor/thread_pool.h. The task layout is executor/detail/pool_task.h,
// the task state machine executor/detail/pool_task_state.h.
#include "executor/thread_pool.h"

#include <pthread.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "executor/detail/run_queue.h"
#include "executor/detail/task_waker.h"
#include "executor/enter.h"
#include "poll/arc.h"
#include "poll/raw_waker.h"
#include "poll/wake.h"

namespace pollwake {
namespace detail {
namespace {

constexpr std::size_t kRegistryShards = 8;
constexpr int kSpins = 32;          // idle rounds (with yield) before sleeping
constexpr std::size_t kMaxSteal = 64;  // most tasks one steal moves

// A run queue: an intrusive FIFO of tasks in POLLING state.
using TaskQueue = RunQueue<PoolTaskHeader>;

// A registry shard: an intrusive doubly linked list of the unfinished tasks
// that have returned Pending at least once (the others are always in a queue
// or being polled), so that shutdown can find and destroy the tasks that
// nobody will ever wake. A worker registers into shard (index % shards).
// (The tasks' reg_prev/reg_next links are under the same lock.)
struct alignas(64) RegistryShard {
  absl::Mutex mu;
  PoolTaskHeader* head ABSL_GUARDED_BY(mu) = nullptr;
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
  // A std::mutex, not absl::Mutex: it guards no data (the counters above are
  // atomics), only the sleep handshake, and it pairs with a
  // std::condition_variable.
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
// The caller holds a reference to the pool (see schedule()).
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

// push: queues the task, then wakes a sleeper if none is looking. The
// caller holds a reference to the pool (see schedule()).
void push(PoolShared* pool, std::size_t q, PoolTaskHeader* task) {
  pool->queues[q].push(task);
  notify(pool);
}

// [START schedule]
// schedule: queues a task the caller has just moved into POLLING. A worker of
// the task's pool queues on its own queue; any other thread round-robin.
//
// Any other thread (a foreign waker, a spawner) takes a reference to the
// pool for the push. Without it, the queue's absl::Mutex would be what keeps
// the pool alive: shutdown takes this task out of the queue under that lock
// as soon as the push unlocks, destroys it, finds nothing left and frees the
// pool, queues and mutexes included, while this thread may still be inside
// Unlock() (absl's slow path wakes the next waiter after releasing the lock
// word). absl::Mutex does not promise that Unlock() leaves the mutex alone
// once another thread can take it (std::mutex does, [thread.mutex.class]);
// Abseil 20220623 happens not to touch it, but the pool must not rest on
// that. The reference makes the question moot: the pool outlives the push,
// and the last reference, if it is this one, frees the pool here, after
// Unlock() has returned.
//
// Taking the reference is safe although the caller holds none: the pool is
// alive, because the task is unfinished and POLLING, so shutdown's cleanup
// cannot return (and the last handle cannot let go of the pool) until it
// has taken this task from the queue this push fills.
void schedule(PoolTaskHeader* task) {
  PoolShared* pool = task->pool;  // valid: the task is unfinished
  if (tls_worker.pool == pool) {
    push(pool, tls_worker.index, task);  // a worker holds a reference to its pool
    return;
  }
  Arc<PoolShared>::increment_strong_count(pool);
  Arc<PoolShared> keep = Arc<PoolShared>::from_raw(pool);
  push(pool, tls_round_robin++ % pool->size, task);
}  // `keep` goes here, after the push's Unlock() has returned
// [END schedule]

void register_task(PoolShared* pool, std::size_t me, PoolTaskHeader* task) {
  task->registered = true;
  task->shard = static_cast<std::uint32_t>(me % kRegistryShards);
  RegistryShard& shard = pool->registry[task->shard];
  MutexLock lock(&shard.mu);
  task->reg_prev = nullptr;
  task->reg_next = shard.head;
  if (shard.head != nullptr) shard.head->reg_prev = task;
  shard.head = task;
}

void unlink_locked(RegistryShard& shard, PoolTaskHeader* task)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu) {
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
void finish(PoolTaskHeader* task) {
  task->state.complete();
  if (task->registered) {
    RegistryShard& shard = task->pool->registry[task->shard];
    MutexLock lock(&shard.mu);
    unlink_locked(shard, task);
  }
  pool_task_release(task);  // the pool's reference; may free the task
}

// pool_task_wake: Waker::wake_by_ref of a ThreadPool task: the state
// machine's wake, and the queueing it asks for.
void pool_task_wake(PoolTaskHeader* task) noexcept {
  if (task->state.wake()) schedule(task);
}

// The waker of ThreadPool tasks: data is the PoolTaskHeader.
using PoolTaskWaker = TaskWaker<PoolTaskHeader, &pool_task_wake, &pool_task_release>;

// run_task: polls a task the caller owns (state POLLING or REPOLL).
void run_task(PoolShared* pool, std::size_t me, PoolTaskHeader* task) {
  // [START run_task]
  // A wake that came while the task sat in the queue is served by this poll.
  task->state.begin_poll();
  WakerRef waker(PoolTaskWaker::borrow(task));  // borrowed: no refcount
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
  // WAITING: from now on a waker owns the task; do not touch it again.
  if (task->state.end_pending()) return;
  // A wake came during the poll: poll exactly once more, after the tasks
  // already queued here.
  push(pool, me, task);
  // [END run_task]
}

// find_task: a task from this worker's own queue, else half of another
// worker's queue (then the first of those). nullptr when every queue was
// empty as this worker looked.
PoolTaskHeader* find_task(PoolShared* pool, std::size_t me) {
  if (PoolTaskHeader* task = pool->queues[me].pop()) return task;
  for (std::size_t k = 1; k < pool->size; ++k) {
    std::size_t victim = (me + k) % pool->size;
    if (pool->queues[victim].steal_half(pool->queues[me], kMaxSteal)) {
      if (PoolTaskHeader* task = pool->queues[me].pop()) return task;
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
    PoolTaskHeader* task = find_task(pool, me);
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
      while (PoolTaskHeader* batch = pool->queues[q].take_all()) {
        while (batch != nullptr) {
          PoolTaskHeader* task = batch;
          batch = task->next;
          task->next = nullptr;
          task->vtable->cancel(task);  // we own POLLING: destroy the future
          finish(task);
        }
      }
    }
    bool empty = true;
    for (RegistryShard& shard : pool->registry) {
      PoolTaskHeader* claimed = nullptr;  // chained through `next` (not queued)
      {
        MutexLock lock(&shard.mu);
        for (PoolTaskHeader* t = shard.head; t != nullptr;) {
          PoolTaskHeader* following = t->reg_next;
          if (t->state.claim_waiting()) {
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
        PoolTaskHeader* t = claimed;
        claimed = t->next;
        t->next = nullptr;
        t->vtable->cancel(t);
        pool_task_release(t);  // the pool's reference
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

void pool_spawn(PoolShared* pool, PoolTaskHeader* task) {
  task->pool = pool;
  // Spawned tasks start queued, i.e. POLLING (the spawner owns the poll
  // permission until a worker takes it); no waker exists yet. It is not in
  // the registry: until its first Pending it is always in a queue or being
  // polled, where shutdown finds it anyway.
  task->state.start_queued();
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
