// tests/ffi/ffi_test_util.h: fixtures for the FFI tests.
//
//   CountingFfiWaker  a foreign waker written against the C ABI alone (as a
//                     C or Rust executor would write it): reference counted,
//                     counts clones, wakes and drops, and lets a thread wait
//                     for a wake with a deadline.
//   Watchdog          aborts the test with a message if it is not done in
//                     time: a lost wake fails, it does not hang.
#ifndef POLLWAKE_TESTS_FFI_FFI_TEST_UTIL_H_
#define POLLWAKE_TESTS_FFI_FFI_TEST_UTIL_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

#include "interop/ffi/async_ffi.h"

namespace pollwake::ffi::testing {

// A deadline generous for sanitizers and a loaded 2-core machine; reaching it
// means a wake was lost.
inline constexpr std::chrono::seconds kLostWakeDeadline{20};

class CountingFfiWaker {
 public:
  // Returns a new waker holding one reference (the caller's).
  static CountingFfiWaker* make() { return new CountingFfiWaker(); }

  const FfiWakerBase* base() const { return &base_; }
  FfiContext context() const { return FfiContext{&base_}; }

  int clones() const { return clones_.load(); }
  int wakes() const { return wakes_.load(); }
  int drops() const { return drops_.load(); }
  std::size_t refs() const { return refs_.load(); }

  // Waits until a wake arrives (consuming it); false after `limit`.
  bool wait_for_wake(std::chrono::milliseconds limit = kLostWakeDeadline) {
    std::unique_lock<std::mutex> lock(mu_);
    const bool woken = cv_.wait_for(lock, limit, [this] { return woken_; });
    woken_ = false;
    return woken;
  }

  // Releases the caller's reference.
  void release() { drop(&base_); }

 private:
  CountingFfiWaker() = default;
  // SAFETY: every base handed out is base_, the first member of a standard-
  // layout object, so the cast back is exact.
  static CountingFfiWaker* self(const FfiWakerBase* b) {
    return reinterpret_cast<CountingFfiWaker*>(const_cast<FfiWakerBase*>(b));
  }
  static const FfiWakerBase* clone(const FfiWakerBase* b) {
    // ORDERING: relaxed (all three counters): a counter orders nothing else;
    // a test reads it only after it has synchronized with the thread that
    // counted (a join, or the wake it waited for under mu_), and that
    // happens-before edge makes the increment visible.
    self(b)->clones_.fetch_add(1, std::memory_order_relaxed);
    // ORDERING: relaxed, as Arc::clone: the caller holds a reference.
    self(b)->refs_.fetch_add(1, std::memory_order_relaxed);
    return b;
  }
  static void wake_by_ref(const FfiWakerBase* b) {
    CountingFfiWaker* w = self(b);
    // ORDERING: relaxed, see clone; the mu_ section below publishes it to
    // wait_for_wake.
    w->wakes_.fetch_add(1, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(w->mu_);
      w->woken_ = true;
    }
    w->cv_.notify_all();
  }
  static void wake(const FfiWakerBase* b) {
    wake_by_ref(b);
    drop(b);
  }
  static void drop(const FfiWakerBase* b) {
    CountingFfiWaker* w = self(b);
    // ORDERING: relaxed, see clone.
    w->drops_.fetch_add(1, std::memory_order_relaxed);
    // ORDERING: release/acquire as Arc's drop: every holder's use happens
    // before the delete.
    if (w->refs_.fetch_sub(1, std::memory_order_release) == 1) {
      std::atomic_thread_fence(std::memory_order_acquire);
      delete w;
    }
  }
  static constexpr FfiWakerVTable kTable{&clone, &wake, &wake_by_ref, &drop};

  FfiWakerBase base_{&kTable};  // first
  std::atomic<std::size_t> refs_{1};
  std::atomic<int> clones_{0}, wakes_{0}, drops_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;  // under mu_
};

class Watchdog {
 public:
  explicit Watchdog(std::string what, std::chrono::seconds limit = kLostWakeDeadline * 2)
      : thread_([this, what = std::move(what), limit] {
          std::unique_lock<std::mutex> lock(mu_);
          if (cv_.wait_for(lock, limit, [this] { return done_; })) return;
          std::fprintf(stderr, "watchdog: %s made no progress in %lld s: a lost wake; aborting\n",
                       what.c_str(), static_cast<long long>(limit.count()));
          std::abort();
        }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace pollwake::ffi::testing

#endif  // POLLWAKE_TESTS_FFI_FFI_TEST_UTIL_H_
