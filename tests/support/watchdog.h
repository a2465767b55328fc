// tests/support/watchdog.h: turns a hang into a failure with a message.
//
// A concurrency test must FAIL, not hang, when a wakeup is lost. A Watchdog
// watches the test from its own thread:
//   * The test calls tick() whenever it makes progress (optionally saying
//     where it is). A test that never ticks is watched from its start.
//   * After `limit` without a tick, the watchdog prints what stalled and
//     where, runs the rescue once (on_stall: e.g. wake the stuck task by
//     hand, or open the gate it waits on), and marks stalled(), so the test
//     goes on and FAILS on `EXPECT_FALSE(dog.stalled())` with "lost wakeup".
//   * If even the rescue does not help (no tick for kGrace more), it prints
//     that and aborts the process: still a failure with a message.
// stop() (or the destructor) ends the watch; read stalled() after it.
#ifndef POLLWAKE_TESTS_SUPPORT_WATCHDOG_H_
#define POLLWAKE_TESTS_SUPPORT_WATCHDOG_H_

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "tests/support/deadline.h"

namespace pollwake::testing {

class Watchdog {
 public:
  static constexpr std::chrono::seconds kGrace{15};

  explicit Watchdog(std::string what, std::chrono::seconds limit = kDeadline,
                    std::function<void()> rescue = {})
      : what_(std::move(what)), limit_(limit), rescue_(std::move(rescue)), thread_([this] { run(); }) {}
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  ~Watchdog() { stop(); }

  // tick: progress was made; `where` says what the test is doing now (it is
  // printed if the test stalls).
  void tick(std::string where = {}) {
    std::lock_guard lock(mu_);
    ++ticks_;
    if (!where.empty()) where_ = std::move(where);
  }
  // on_stall: what to run once if the test stalls (e.g. a rescue wake).
  void on_stall(std::function<void()> rescue) {
    std::lock_guard lock(mu_);
    rescue_ = std::move(rescue);
  }
  // Ends the watch (joins the thread); afterwards stalled() is final.
  void stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  // True once the rescue ran: the test did not make progress in time.
  bool stalled() const {
    std::lock_guard lock(mu_);
    return stalled_;
  }

 private:
  void run() {
    std::unique_lock lock(mu_);
    long seen = ticks_;
    auto last = std::chrono::steady_clock::now();
    bool rescued = false;
    while (!stop_) {
      cv_.wait_for(lock, std::chrono::milliseconds(100));
      auto now = std::chrono::steady_clock::now();
      if (ticks_ != seen) {
        seen = ticks_;
        last = now;
        continue;
      }
      if (!rescued && now - last > limit_) {
        rescued = true;
        stalled_ = true;
        std::fprintf(stderr, "watchdog: %s made no progress for %lld s at \"%s\": rescuing\n",
                     what_.c_str(), static_cast<long long>(limit_.count()), where_.c_str());
        std::function<void()> rescue = rescue_;
        lock.unlock();
        if (rescue) rescue();
        lock.lock();
        last = std::chrono::steady_clock::now();
      } else if (rescued && now - last > kGrace) {
        std::fprintf(stderr,
                     "watchdog: %s still stuck at \"%s\" %lld s after the rescue "
                     "(deadlock or lost wakeup): aborting\n",
                     what_.c_str(), where_.c_str(), static_cast<long long>(kGrace.count()));
        std::fflush(stderr);
        std::abort();
      }
    }
  }

  const std::string what_;
  const std::chrono::seconds limit_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;             // under mu_
  bool stalled_ = false;          // under mu_
  long ticks_ = 0;                // under mu_
  std::string where_;             // under mu_
  std::function<void()> rescue_;  // under mu_
  std::thread thread_;            // last: started after every other member exists
};

}  // namespace pollwake::testing

#endif  // POLLWAKE_TESTS_SUPPORT_WATCHDOG_H_
