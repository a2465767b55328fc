// executor/detail/local_pool_shared.h
//
// LocalPoolShared: the part of a LocalPool that outlives it, shared by the
// pool, its spawners, its tasks and the run_until waker (Rust: the
// Rc<...>/Arc<...> inner state that futures-rs's LocalPool shares with its
// spawners, and the ThreadNotify its run_until waker points at).
//
// How pollwake differs, and why: tasks and wakers may outlive the pool (a
// waker on another thread), so the remote wake stack, the parker and the
// main waker's flag live here, under a reference count of their own, and a
// wake after the pool is gone finds live memory and does nothing.
#ifndef POLLWAKE_EXECUTOR_DETAIL_LOCAL_POOL_SHARED_H_
#define POLLWAKE_EXECUTOR_DETAIL_LOCAL_POOL_SHARED_H_

#include <atomic>
#include <cstddef>
#include <optional>
#include <thread>

#include "executor/detail/local_task.h"
#include "executor/detail/remote_stack.h"
#include "executor/parker.h"
#include "poll/raw_waker.h"
#include "poll/waker.h"

namespace pollwake {

class LocalPool;

namespace detail {

// What outlives the pool: the remote stack, the parker the pool sleeps on,
// and the run_until waker's flag. Tasks, spawners and the run_until waker
// each hold a reference, so a wake after the pool is gone finds live memory.
class LocalPoolShared {
 public:
  explicit LocalPoolShared(LocalPool* p) : pool(p), owner(std::this_thread::get_id()) {}

  void acquire(std::size_t n = 1) noexcept {
    // ORDERING: relaxed; the caller already holds a reference.
    refs_.fetch_add(n, std::memory_order_relaxed);
  }
  void release(std::size_t n = 1) noexcept {
    // ORDERING: acq_rel, as Arc's decrement.
    if (refs_.fetch_sub(n, std::memory_order_acq_rel) == n) delete this;
  }

  // Pushes a task whose kScheduled bit this thread just set, with one
  // reference for the queue. Any thread. After close(), the reference is
  // dropped instead (the pool is gone; the wake does nothing).
  void push_remote(LocalTaskHeader* task) noexcept {
    if (!remote_.push(task)) {
      local_task_release(task);
      return;
    }
    parker.unpark();
    if (remote_waker) remote_waker->wake_by_ref();
  }

  // Whether the remote stack holds a wake (pool thread only).
  bool has_remote() const noexcept { return remote_.maybe_nonempty(); }

  // Takes the whole remote stack, oldest first. Pool thread only.
  LocalTaskHeader* take_remote() noexcept { return remote_.take_all(); }

  // Closes the remote stack for good; returns what was on it. Pool's
  // destructor only.
  LocalTaskHeader* close() noexcept { return remote_.close(); }

  // run_until's waker: sets the flag, then unparks the pool.
  RawWaker main_waker() noexcept {
    acquire();
    return RawWaker{this, &kMainVTable};
  }

  Parker<FutexPark> parker;
  // Woken after each remote push as well (LocalPool::set_remote_waker).
  // Written once, before any task exists.
  std::optional<Waker> remote_waker;
  std::atomic<bool> main_woken{false};
  LocalPool* pool;             // nullptr once the pool is dropped (pool thread only)
  const std::thread::id owner; // the thread the pool belongs to

 private:
  ~LocalPoolShared() = default;

  // SAFETY (all four): `data` is a LocalPoolShared* on which the caller owns
  // (wake, drop) or borrows (clone, wake_by_ref) one reference.
  static LocalPoolShared* self(const void* data) noexcept {
    return const_cast<LocalPoolShared*>(static_cast<const LocalPoolShared*>(data));
  }
  static RawWaker main_clone(const void* data) noexcept { return self(data)->main_waker(); }
  static void main_wake_by_ref(const void* data) {
    // ORDERING: release; the pool's acquire exchange sees what the waker did.
    self(data)->main_woken.store(true, std::memory_order_release);
    self(data)->parker.unpark();
  }
  static void main_wake(const void* data) {
    main_wake_by_ref(data);
    self(data)->release();
  }
  static void main_drop(const void* data) noexcept { self(data)->release(); }
  static constexpr RawWakerVTable kMainVTable{&main_clone, &main_wake, &main_wake_by_ref,
                                              &main_drop};

  std::atomic<std::size_t> refs_{1};  // the pool's own reference
  RemoteStack<LocalTaskHeader> remote_;  // wakes from other threads
};

}  // namespace detail
}  // namespace pollwake

#endif  // POLLWAKE_EXECUTOR_DETAIL_LOCAL_POOL_SHARED_H_
