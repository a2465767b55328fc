// tests/support/latch.h: Latch, counted down by tasks and waited for by the
// test, with the deadline: wait() is false (the test FAILs) instead of
// hanging when a task never runs.
#ifndef POLLWAKE_TESTS_SUPPORT_LATCH_H_
#define POLLWAKE_TESTS_SUPPORT_LATCH_H_

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "tests/support/deadline.h"

namespace pollwake::testing {

class Latch {
 public:
  explicit Latch(int count) : count_(count) {}
  void count_down() {
    std::lock_guard lock(mu_);
    if (--count_ <= 0) cv_.notify_all();
  }
  // True when the count reached zero before the deadline.
  bool wait(std::chrono::milliseconds limit = kDeadline) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return count_ <= 0; });
  }
  int remaining() {
    std::lock_guard lock(mu_);
    return count_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int count_;  // under mu_
};

}  // namespace pollwake::testing

#endif  // POLLWAKE_TESTS_SUPPORT_LATCH_H_
