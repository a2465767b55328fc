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
#include <memory>
#include <optional>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "poll/context.h"
#include "poll/poll.h"
#include "poll/waker.h"

namespace pollwake::hostloop::testing {

// How long a test waits for a notification before it reports a lost wakeup.
inline constexpr absl::Duration kLostWakeupDeadline = absl::Seconds(20);

#if defined(__SANITIZE_THREAD__)
inline constexpr int kStressScale = 4;
#else
inline constexpr int kStressScale = 1;
#endif

class FakeHost {
 public:
  void notify() {
    absl::MutexLock lock(&mu_);
    signaled_ = true;
    ++notifications_;
  }
  // Waits for a notification and consumes it; false on timeout.
  bool wait_for_notification(absl::Duration deadline = kLostWakeupDeadline) {
    absl::MutexLock lock(&mu_);
    if (!mu_.AwaitWithTimeout(absl::Condition(&signaled_), deadline)) return false;
    signaled_ = false;
    return true;
  }
  int notifications() {
    absl::MutexLock lock(&mu_);
    return notifications_;
  }

 private:
  absl::Mutex mu_;
  bool signaled_ ABSL_GUARDED_BY(mu_) = false;
  int notifications_ ABSL_GUARDED_BY(mu_) = 0;
};

struct ParkedCounters {
  std::atomic<int> polls{0};
  std::atomic<int> drops{0};
  std::atomic<bool> release{false};
  absl::Mutex mu;
  std::optional<Waker> waker ABSL_GUARDED_BY(mu);
  std::optional<Waker> clone_waker() {
    absl::MutexLock lock(&mu);
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
    absl::MutexLock lock(&c_->mu);
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
