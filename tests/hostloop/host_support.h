// tests/hostloop/host_support.h: fixtures for the host-loop tests.
//
//   FakeHost          a host loop in miniature: notify() raises a flag under
//                     a lock; wait_for_notification() waits for it with a
//                     deadline (a lost notification fails, never hangs).
//   ParkedFuture      Pending until released; keeps the latest waker; counts
//                     polls and drops (shared counters outlive the future).
//   YieldFuture       wakes itself and returns Pending `n` times, then Ready.
#ifndef POLLWAKE_TESTS_HOSTLOOP_HOST_SUPPORT_H_
#define POLLWAKE_TESTS_HOSTLOOP_HOST_SUPPORT_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <memory>
#include <optional>
#include <vector>

#include "poll/context.h"
#include "poll/poll.h"
#include "poll/waker.h"

namespace pollwake::hostloop::testing {

// How long a test waits for a notification before it reports a lost wakeup.
inline constexpr std::chrono::milliseconds kLostWakeupDeadline{20000};

#if defined(__SANITIZE_THREAD__)
inline constexpr int kStressScale = 4;
#else
inline constexpr int kStressScale = 1;
#endif

// std::mutex rather than absl::Mutex throughout: TSan cannot see the
// synchronization of Debian's uninstrumented libabsl (host_executor.h).
class FakeHost {
 public:
  void notify() {
    std::lock_guard<std::mutex> lock(mu_);
    signaled_ = true;
    ++notifications_;
    cv_.notify_all();
  }
  // Waits for a notification and consumes it; false on timeout.
  bool wait_for_notification(std::chrono::milliseconds deadline = kLostWakeupDeadline) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, deadline, [&] { return signaled_; })) return false;
    signaled_ = false;
    return true;
  }
  int notifications() {
    std::lock_guard<std::mutex> lock(mu_);
    return notifications_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool signaled_ = false;    // guarded by mu_
  int notifications_ = 0;    // guarded by mu_
};

struct ParkedCounters {
  std::atomic<int> polls{0};
  std::atomic<int> drops{0};
  std::atomic<bool> release{false};
  std::mutex mu;
  std::optional<Waker> waker;  // guarded by mu
  std::optional<Waker> clone_waker() {
    std::lock_guard<std::mutex> lock(mu);
    return waker;
  }
};

class ParkedFuture {
 public:
  using Output = Unit;
  explicit ParkedFuture(std::shared_ptr<ParkedCounters> c) : c_(std::move(c)) {}
  ParkedFuture(ParkedFuture&& o) noexcept : c_(std::move(o.c_)) {}
  ~ParkedFuture() {
    if (c_) c_->drops.fetch_add(1);
  }
  Poll<Unit> poll(Context& cx) {
    c_->polls.fetch_add(1);
    if (c_->release.load()) return Ready();
    std::lock_guard<std::mutex> lock(c_->mu);
    c_->waker.emplace(cx.waker());
    return Pending;
  }

 private:
  std::shared_ptr<ParkedCounters> c_;
};

class YieldFuture {
 public:
  using Output = Unit;
  YieldFuture(int n, std::shared_ptr<std::atomic<int>> polls) : left_(n), polls_(std::move(polls)) {}
  Poll<Unit> poll(Context& cx) {
    polls_->fetch_add(1);
    if (left_ == 0) return Ready();
    --left_;
    cx.waker().wake_by_ref();
    return Pending;
  }

 private:
  int left_;
  std::shared_ptr<std::atomic<int>> polls_;
};

}  // namespace pollwake::hostloop::testing

#endif  // POLLWAKE_TESTS_HOSTLOOP_HOST_SUPPORT_H_
