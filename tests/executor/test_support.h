// tests/executor/test_support.h: counted fixtures and a watchdog for the
// executor tests.
//
//   Gate / GateFuture   a future that is Pending until the test opens its
//                       gate; counts polls and drops, keeps the latest waker.
//   YieldFuture         wakes itself and returns Pending `n` times, then
//                       Ready (futures-rs's yield_now, repeated); logs polls.
//   Watchdog            runs an action once if the test is not done by a
//                       deadline, so a lost wakeup fails the test (the action
//                       unblocks it and sets fired()) instead of hanging it.
#ifndef POLLWAKE_TESTS_EXECUTOR_TEST_SUPPORT_H_
#define POLLWAKE_TESTS_EXECUTOR_TEST_SUPPORT_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "poll/context.h"
#include "poll/poll.h"
#include "poll/waker.h"

namespace pollwake::testing {

// How long a test waits for a wake before it reports a lost wakeup.
inline constexpr std::chrono::seconds kLostWakeupDeadline{20};

// Stress sizes: ThreadSanitizer runs ~10x slower; scale down, stay meaningful.
#if defined(__SANITIZE_THREAD__)  // g++
#define POLLWAKE_TEST_TSAN 1
#elif defined(__has_feature)     // clang (g++ 12 lacks __has_feature)
#if __has_feature(thread_sanitizer)
#define POLLWAKE_TEST_TSAN 1
#endif
#endif
#if defined(POLLWAKE_TEST_TSAN)
inline constexpr int kStressScale = 2;
#else
inline constexpr int kStressScale = 1;
#endif

struct Gate {
  std::mutex mu;
  bool open = false;                 // under mu
  std::optional<Waker> waker;        // under mu: the latest poll's waker
  std::atomic<int> polls{0};
  std::atomic<int> drops{0};

  // Opens the gate and wakes the stored waker (outside the lock).
  void open_and_wake() {
    std::optional<Waker> w;
    {
      std::lock_guard<std::mutex> lock(mu);
      open = true;
      w = std::move(waker);
      waker.reset();
    }
    if (w) std::move(*w).wake();
  }
  // Wakes the stored waker without opening the gate.
  void wake_only() {
    std::optional<Waker> w;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (waker) w.emplace(*waker);
    }
    if (w) std::move(*w).wake();
  }
  std::optional<Waker> clone_waker() {
    std::lock_guard<std::mutex> lock(mu);
    return waker;
  }
};

template <class T = Unit>
class GateFuture {
 public:
  using Output = T;
  GateFuture(std::shared_ptr<Gate> gate, T value = T{})
      : gate_(std::move(gate)), value_(std::move(value)) {}
  GateFuture(GateFuture&& other) noexcept
      : gate_(std::move(other.gate_)), value_(std::move(other.value_)) {}
  ~GateFuture() {
    if (gate_) gate_->drops.fetch_add(1);
  }
  Poll<T> poll(Context& cx) {
    gate_->polls.fetch_add(1);
    std::lock_guard<std::mutex> lock(gate_->mu);
    if (gate_->open) return Ready(value_);
    if (gate_->waker) {
      gate_->waker->clone_from(cx.waker());
    } else {
      gate_->waker.emplace(cx.waker());
    }
    return Pending;
  }

 private:
  std::shared_ptr<Gate> gate_;
  T value_;
};

// Wakes itself `yields` times (wake_by_ref, then Pending), then is Ready.
// Appends `name` to *log on every poll.
class YieldFuture {
 public:
  using Output = Unit;
  YieldFuture(int yields, std::string name, std::vector<std::string>* log)
      : left_(yields), name_(std::move(name)), log_(log) {}
  Poll<Unit> poll(Context& cx) {
    if (log_ != nullptr) log_->push_back(name_);
    if (left_ == 0) return Ready();
    --left_;
    cx.waker().wake_by_ref();
    return Pending;
  }

 private:
  int left_;
  std::string name_;
  std::vector<std::string>* log_;
};

// Counts its own destruction (moved-from instances do not count).
class DropCounter {
 public:
  explicit DropCounter(std::atomic<int>* drops) : drops_(drops) {}
  DropCounter(DropCounter&& o) noexcept : drops_(std::exchange(o.drops_, nullptr)) {}
  ~DropCounter() {
    if (drops_ != nullptr) drops_->fetch_add(1);
  }

 private:
  std::atomic<int>* drops_;
};

class Watchdog {
 public:
  // After `limit`, runs on_timeout once (which should unblock the test and
  // make it fail through fired()). If the test is still not done `kGrace`
  // later (the rescue wake was lost too), prints why and aborts: a failure
  // with a message, never a hang.
  Watchdog(std::chrono::seconds limit, std::function<void()> on_timeout)
      : thread_([this, limit, on_timeout = std::move(on_timeout)] {
          std::unique_lock<std::mutex> lock(mu_);
          if (cv_.wait_for(lock, limit, [this] { return done_; })) return;
          fired_.store(true);
          lock.unlock();
          std::fprintf(stderr, "watchdog: no progress after %lld s: lost wakeup? waking to rescue\n",
                       static_cast<long long>(limit.count()));
          on_timeout();
          lock.lock();
          if (cv_.wait_for(lock, kGrace, [this] { return done_; })) return;
          std::fprintf(stderr, "watchdog: the rescue wake was lost as well; aborting the test\n");
          std::abort();
        }) {}
  ~Watchdog() { stop(); }
  // Stops the watchdog (joins it); afterwards fired() is final.
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  bool fired() const { return fired_.load(); }

 private:
  static constexpr std::chrono::seconds kGrace{10};
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::atomic<bool> fired_{false};
  std::thread thread_;
};

}  // namespace pollwake::testing

#endif  // POLLWAKE_TESTS_EXECUTOR_TEST_SUPPORT_H_
