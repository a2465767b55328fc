// tests/bridge/bridge_test_util.h: what the bridge tests share: a record of
// one asynchronous call (its rows and its completions) with a bounded wait,
// so a lost completion fails the test instead of hanging it, and a gate
// that holds the runtime thread while a test queues calls.
#ifndef POLLWAKE_TESTS_BRIDGE_BRIDGE_TEST_UTIL_H_
#define POLLWAKE_TESTS_BRIDGE_BRIDGE_TEST_UTIL_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "interop/bridge/pollwake_bridge.h"

namespace pollwake::bridge::testing {

// The watchdog: no single wait in these tests may take longer.
inline constexpr std::chrono::seconds kWatchdog{30};

// Call: pass `this` as user_data with &Call::Done (and &Call::Row).
class Call {
 public:
  static void Done(void* ud, pwb_status status, const char* message, uint64_t value) {
    auto* self = static_cast<Call*>(ud);
    std::lock_guard lock(self->mu_);
    ++self->completions_;
    self->status_ = status;
    self->message_ = message != nullptr ? message : "<null>";
    self->value_ = value;
    self->cv_.notify_all();
  }
  static void Row(void* ud, int64_t key, const char* value, size_t len) {
    auto* self = static_cast<Call*>(ud);
    std::lock_guard lock(self->mu_);
    if (self->completions_ != 0) self->row_after_completion_ = true;
    self->rows_.emplace_back(key, std::string(value, len));
  }

  // Waits (bounded) for the first completion; false if the watchdog fired.
  bool Wait(std::chrono::milliseconds limit = kWatchdog) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return completions_ > 0; });
  }
  int completions() {
    std::lock_guard lock(mu_);
    return completions_;
  }
  pwb_status status() {
    std::lock_guard lock(mu_);
    return status_;
  }
  std::string message() {
    std::lock_guard lock(mu_);
    return message_;
  }
  uint64_t value() {
    std::lock_guard lock(mu_);
    return value_;
  }
  std::vector<std::pair<int64_t, std::string>> rows() {
    std::lock_guard lock(mu_);
    return rows_;
  }
  bool row_after_completion() {
    std::lock_guard lock(mu_);
    return row_after_completion_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int completions_ = 0;
  pwb_status status_ = -1;
  std::string message_;
  uint64_t value_ = 0;
  std::vector<std::pair<int64_t, std::string>> rows_;
  bool row_after_completion_ = false;
};

// Counter: many calls share one; counts completions by status.
class Counter {
 public:
  static void Done(void* ud, pwb_status status, const char*, uint64_t) {
    auto* self = static_cast<Counter*>(ud);
    std::lock_guard lock(self->mu_);
    ++self->by_status_[status >= 0 && status < 16 ? status : 15];
    ++self->total_;
    self->cv_.notify_all();
  }
  bool WaitFor(int64_t n, std::chrono::milliseconds limit = kWatchdog) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return total_ >= n; });
  }
  int64_t total() {
    std::lock_guard lock(mu_);
    return total_;
  }
  int64_t count(pwb_status s) {
    std::lock_guard lock(mu_);
    return by_status_[s];
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t by_status_[16] = {};
  int64_t total_ = 0;
};

// RuntimeGate: holds the runtime thread inside a ping's done callback, so
// that the calls a test submits meanwhile wait in the channel, none of them
// taken by the dispatcher, let alone started, until the test lets go. That
// fixes the order of what the runtime sees without any wall-clock
// assumption (a latency "long enough" is one a loaded machine can break).
// Two ways to let go:
//   * Open(): the callback returns at once; the runtime then finds every
//     call submitted meanwhile queued in the channel.
//   * Release(), just before pwb_shutdown: the callback returns once it
//     sees the runtime stopping, by probing with pwb_ping (refused with
//     PWB_NOT_RUNNING from then on; once shutdown has begun the runtime
//     starts no queued call, so each of them is canceled). It probes only
//     after Release(), so that until then the probes add nothing to
//     pwb_calls_in_flight.
// The callback gives up after the watchdog (timed_out()), so a test fails
// instead of hanging.
class RuntimeGate {
 public:
  // Sends the gate's ping; true once its callback holds the runtime thread.
  bool Hold() {
    if (pwb_ping(&Done, this) != PWB_OK) return false;
    const auto limit = std::chrono::steady_clock::now() + kWatchdog;
    while (!holding_.load() && std::chrono::steady_clock::now() < limit) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return holding_.load();
  }
  void Open() { open_ = true; }
  void Release() { release_ = true; }
  // The callback gave up (watchdog) instead of being opened or released.
  bool timed_out() const { return timed_out_.load(); }

 private:
  static void Done(void* ud, pwb_status, const char*, uint64_t) {
    auto* self = static_cast<RuntimeGate*>(ud);
    self->holding_ = true;
    const auto limit = std::chrono::steady_clock::now() + kWatchdog;
    while (std::chrono::steady_clock::now() < limit) {
      if (self->open_.load()) return;
      if (self->release_.load() &&
          pwb_ping([](void*, pwb_status, const char*, uint64_t) {}, nullptr) == PWB_NOT_RUNNING) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    self->timed_out_ = true;
  }

  std::atomic<bool> holding_{false};
  std::atomic<bool> open_{false};
  std::atomic<bool> release_{false};
  std::atomic<bool> timed_out_{false};
};

// Connects with the blocking API; 0 on failure (the test then fails).
inline pwb_conn ConnectOrZero(const char* uri, uint32_t latency_us = 0) {
  pwb_conn c = 0;
  char msg[256];
  if (pwb_connect_blocking(uri, latency_us, &c, msg, sizeof msg) != PWB_OK) return 0;
  return c;
}

}  // namespace pollwake::bridge::testing

#endif  // POLLWAKE_TESTS_BRIDGE_BRIDGE_TEST_UTIL_H_
