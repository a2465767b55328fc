// executor/parker.h
//
// Models the park/unpark pair under futures-rs's `ThreadNotify`
// (`std::thread::park` / `Thread::unpark`): one thread sleeps in park() until
// another thread (or itself, earlier) calls unpark(). An unpark that comes
// before the park is remembered, so the park returns at once: a wake that
// arrives before the park is never lost.
//
// How pollwake differs, and why: Rust's thread handle is built into every
// thread; pollwake's Parker is a small object that block_on keeps per thread
// and LocalPool keeps per pool, so that the waker can point at it directly
// with a static vtable. The way it sleeps is a template parameter, so the
// benchmarks can compare the three strategies Rust's platform code chooses
// between:
//   CondvarPark   a mutex + condition variable (Rust's generic fallback)
//   FutexPark     the futex syscall directly on Linux (Rust's Linux parker);
//                 C++20 std::atomic wait/notify elsewhere. Not atomic::wait
//                 on Linux: libstdc++ 12 spins and calls sched_yield before
//                 each futex sleep, which doubles the syscalls of a handoff
//                 and costs most when both threads share one CPU.
//   SpinThenPark  spins briefly checking the flag, then parks as FutexPark;
//                 wins when the waker is another thread that is about to wake
//                 us, loses when cores are scarce.
//
// The protocol (Rust's futex parker uses the same three states):
//   kEmpty    -> kParked   park(): nothing pending, go to sleep
//   kEmpty    -> kNotified unpark() with nobody parked: remember it
//   kNotified -> kEmpty    park() consumes a remembered unpark, returns at once
//   kParked   -> kNotified unpark() of a sleeping thread, which then wakes
//                          and resets the state to kEmpty
// Only the owning thread moves the state to kEmpty or kParked; any thread may
// move it to kNotified. park() may return without an unpark (spuriously)
// only through reset(); callers loop on their own condition anyway.
//
// Memory ordering: unpark() swaps with release and park() consumes kNotified
// with acquire, so whatever the waking thread wrote before unpark() is
// visible to the parked thread after park() returns.
#ifndef POLLWAKE_EXECUTOR_PARKER_H_
#define POLLWAKE_EXECUTOR_PARKER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace pollwake {

// The park strategies (tags). DefaultPark is the one block_on uses unless told
// otherwise; bench/ measures all three (see docs/02_executors.md).
struct CondvarPark {};
struct FutexPark {};
struct SpinThenPark {};
using DefaultPark = FutexPark;

namespace detail {

template <class Strategy>
class Parker {
 public:
  // Parker::park: sleeps until unpark() (or returns at once if an unpark came
  // first). Only the owning thread calls it.
  void park() {
    if constexpr (std::is_same_v<Strategy, SpinThenPark>) {
      for (int i = 0; i < kSpins; ++i) {
        // ORDERING: acquire, pairs with unpark's release swap.
        std::uint32_t expected = kNotified;
        if (state_.compare_exchange_weak(expected, kEmpty, std::memory_order_acquire,
                                         std::memory_order_relaxed)) {
          return;
        }
        cpu_relax();
      }
    }
    if constexpr (std::is_same_v<Strategy, CondvarPark>) {
      std::unique_lock<std::mutex> lock(mu_);
      // ORDERING: acquire on the way out of each transition, pairs with
      // unpark's release swap (the mutex orders the rest).
      std::uint32_t expected = kEmpty;
      if (!state_.compare_exchange_strong(expected, kParked, std::memory_order_acquire)) {
        // The only other value is kNotified: consume it and return.
        // ORDERING: relaxed; the failed CAS above already acquired.
        state_.store(kEmpty, std::memory_order_relaxed);
        return;
      }
      // Invariant: unpark() takes mu_ before notifying, so the notification
      // cannot slip in between the check below and the wait.
      cv_.wait(lock, [&] {
        // ORDERING: acquire, pairs with unpark's release swap.
        std::uint32_t notified = kNotified;
        return state_.compare_exchange_strong(notified, kEmpty, std::memory_order_acquire);
      });
    } else {
      // [START futex_park]
      // ORDERING: acquire, pairs with unpark's release swap. fetch_sub moves
      // kNotified(1) -> kEmpty(0) or kEmpty(0) -> kParked(UINT32_MAX).
      if (state_.fetch_sub(1, std::memory_order_acquire) == kNotified) return;
      for (;;) {
        // Sleeps while the state is still kParked; an unpark that already
        // happened changed it, so the kernel's compare fails and the wait
        // returns at once (no lost wakeup).
        futex_wait(kParked);
        // ORDERING: acquire, pairs with unpark's release swap.
        std::uint32_t notified = kNotified;
        if (state_.compare_exchange_strong(notified, kEmpty, std::memory_order_acquire)) return;
        // Spurious (EINTR, or a stale FUTEX_WAKE): still kParked, sleep again.
      }
      // [END futex_park]
    }
  }

  // Parker::unpark: wakes the owning thread, or makes its next park() return
  // at once. May be called from any thread, any number of times.
  // [START unpark]
  void unpark() {
    // ORDERING: release, so the waker's writes are visible after park().
    if (state_.exchange(kNotified, std::memory_order_release) != kParked) return;
    if constexpr (std::is_same_v<Strategy, CondvarPark>) {
      // Taking the lock orders this notify after the sleeper's wait began.
      { std::lock_guard<std::mutex> lock(mu_); }
      cv_.notify_one();
    } else {
  // [END unpark]
      futex_wake_one();
    }
  }

  // Parker::reset: forgets a remembered unpark (used when a new block_on
  // call starts: stale wakes of an earlier call would only cost a poll).
  void reset() noexcept {
    // ORDERING: relaxed; this only drops a notification nobody waits for.
    state_.store(kEmpty, std::memory_order_relaxed);
  }

 private:
  static constexpr std::uint32_t kEmpty = 0;
  static constexpr std::uint32_t kNotified = 1;
  static constexpr std::uint32_t kParked = UINT32_MAX;  // kEmpty - 1
  static constexpr int kSpins = 200;

  // futex_wait: sleeps while state_ == expected, or returns at once if it
  // differs. May return spuriously (EINTR, EAGAIN); the caller rechecks.
  // Invariant (no lost wakeup): the kernel reads the word and queues the
  // sleeper under the futex's bucket lock, and FUTEX_WAKE takes that lock
  // too. unpark() stores kNotified before it calls futex_wake_one(), so
  // either the read here sees kNotified (no sleep) or the sleeper is queued
  // before the wake looks for it.
  void futex_wait(std::uint32_t expected) noexcept {
#if defined(__linux__)
    // SAFETY: std::atomic<uint32_t> is lock-free with the size and layout of
    // a uint32_t (static_assert below), so its address is a valid futex word;
    // the kernel only reads it. FUTEX_WAIT_PRIVATE: the word is never shared
    // across processes. No timeout (nullptr): sleep until woken.
    // ORDERING: the kernel's read is a plain load; the caller's acquire CAS
    // after the return is what synchronizes with unpark.
    (void)syscall(SYS_futex, futex_word(), FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr, 0);
#else
    // ORDERING: acquire, pairs with unpark's release swap.
    state_.wait(expected, std::memory_order_acquire);
#endif
  }

  // futex_wake_one: wakes the thread sleeping in futex_wait, if any.
  void futex_wake_one() noexcept {
#if defined(__linux__)
    // SAFETY: as in futex_wait. The caller of unpark() keeps the Parker
    // alive (a waker holds a reference to its ThreadParker, or to the pool
    // that owns it); and FUTEX_WAKE uses the address only as a key, it never
    // reads or writes the word. val = 1: wake at most one thread (the owner).
    (void)syscall(SYS_futex, futex_word(), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
#else
    state_.notify_one();
#endif
  }

#if defined(__linux__)
  std::uint32_t* futex_word() noexcept { return reinterpret_cast<std::uint32_t*>(&state_); }
#endif

  static void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }

  std::atomic<std::uint32_t> state_{kEmpty};
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
                    std::atomic<std::uint32_t>::is_always_lock_free,
                "the futex word must be a plain 32-bit integer");
  // Used only by CondvarPark; the other strategies leave them idle (a few
  // bytes per thread or pool).
  std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace detail
}  // namespace pollwake

#endif  // POLLWAKE_EXECUTOR_PARKER_H_
