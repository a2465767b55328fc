// tests/stress/stress_util.h: what the stress tests share.
//
//   Scaled(n)    an iteration count, divided under the sanitizers (by 5 under
//                TSan, which runs these tests 5-15x slower; by 2 under ASan),
//                so every target stays well under a minute on two cores in
//                every configuration.
//   Watchdog     turns a hang into a failure with a message. Each test ticks
//                it as it makes progress; after kStallSeconds without a tick
//                it runs the test's rescue function once (e.g. wakes the
//                stuck task by hand) and records the stall, so the test can
//                FAIL with "lost wakeup" instead of hanging; if even that does
//                not help, it prints what stalled and aborts the process.
//   Probe        counters a test future keeps: polls, polls that overlapped
//                another poll of the same future, polls after Ready, and
//                destructions, for the assertions the tests end with.
//   WaitFor      waits for a condition with a deadline; false on timeout.
#ifndef POLLWAKE_TESTS_STRESS_STRESS_UTIL_H_
#define POLLWAKE_TESTS_STRESS_STRESS_UTIL_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

namespace pollwake::stress {

#if defined(__SANITIZE_THREAD__)
#define POLLWAKE_STRESS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define POLLWAKE_STRESS_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define POLLWAKE_STRESS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POLLWAKE_STRESS_ASAN 1
#endif
#endif

#if defined(POLLWAKE_STRESS_TSAN)
inline constexpr int kScaleDivisor = 5;
#elif defined(POLLWAKE_STRESS_ASAN)
inline constexpr int kScaleDivisor = 2;
#else
inline constexpr int kScaleDivisor = 1;
#endif

// Scaled: `n` iterations in an optimized or debug build, fewer under a
// sanitizer, never fewer than `floor`.
constexpr int Scaled(int n, int floor = 1) {
  return n / kScaleDivisor > floor ? n / kScaleDivisor : floor;
}

inline constexpr int kStallSeconds = 15;   // no progress for this long: rescue
inline constexpr int kAbortSeconds = 30;   // still none this long after: abort

// WaitFor: polls `done` (every millisecond) until it holds or `seconds` pass.
template <class Pred>
bool WaitFor(Pred done, double seconds = kStallSeconds) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

class Watchdog {
 public:
  explicit Watchdog(std::string what) : what_(std::move(what)), thread_([this] { run(); }) {}
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  ~Watchdog() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

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
  bool stalled() const { return stalled_.load(); }
  std::string where() {
    std::lock_guard lock(mu_);
    return where_;
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
      if (!rescued && now - last > std::chrono::seconds(kStallSeconds)) {
        rescued = true;
        stalled_ = true;
        std::fprintf(stderr, "watchdog: %s made no progress for %d s at \"%s\": rescuing\n",
                     what_.c_str(), kStallSeconds, where_.c_str());
        std::function<void()> rescue = rescue_;
        lock.unlock();
        if (rescue) rescue();
        lock.lock();
        last = std::chrono::steady_clock::now();
      } else if (rescued && now - last > std::chrono::seconds(kAbortSeconds)) {
        std::fprintf(stderr,
                     "watchdog: %s still stuck at \"%s\" %d s after the rescue "
                     "(deadlock or lost wakeup): aborting\n",
                     what_.c_str(), where_.c_str(), kAbortSeconds);
        std::fflush(stderr);
        std::abort();
      }
    }
  }

  std::string what_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;          // written under mu_
  long ticks_ = 0;             // written under mu_
  std::string where_;          // written under mu_
  std::function<void()> rescue_;  // written under mu_
  std::atomic<bool> stalled_{false};
  std::thread thread_;  // last: started after every other member exists
};

// Probe: counters for one test future (or a set of them).
struct Probe {
  std::atomic<long> polls{0};
  std::atomic<long> overlapping_polls{0};     // a poll began while another ran
  std::atomic<long> polls_after_ready{0};
  std::atomic<long> created{0};
  std::atomic<long> destroyed{0};
  std::atomic<long> completed{0};

  long live() const { return created.load() - destroyed.load(); }
};

// PollScope: marks one future as being polled for the duration of a poll
// and counts an overlap if another poll of the same future is running.
class PollScope {
 public:
  PollScope(std::atomic<bool>& in_poll, Probe& probe) : in_poll_(in_poll) {
    probe.polls.fetch_add(1, std::memory_order_relaxed);  // ORDERING: a count only
    // ORDERING: acq_rel, so that two overlapping polls cannot both see false.
    if (in_poll_.exchange(true, std::memory_order_acq_rel)) {
      probe.overlapping_polls.fetch_add(1, std::memory_order_relaxed);
    }
  }
  // ORDERING: release, pairs with the next poll's acq_rel exchange.
  ~PollScope() { in_poll_.store(false, std::memory_order_release); }
  PollScope(const PollScope&) = delete;
  PollScope& operator=(const PollScope&) = delete;

 private:
  std::atomic<bool>& in_poll_;
};

}  // namespace pollwake::stress

#endif  // POLLWAKE_TESTS_STRESS_STRESS_UTIL_H_
