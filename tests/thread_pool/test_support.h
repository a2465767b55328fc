// tests/thread_pool/test_support.h: fixtures for the ThreadPool tests.
//
// Every wait here is bounded (kDeadline): a lost wakeup makes a test FAIL with
// a message instead of hanging. Nothing asserts on elapsed time.
//   Latch             count_down() from tasks, wait() from the test
//   eventually(pred)  polls a condition until it holds or the deadline passes
//   wait_output(fut)  drives a future (e.g. a ThreadPoolHandle) on the test
//                     thread with a condvar waker, up to the deadline
//   DropCounter       counts destructions of the future that holds it
//   WakerSlot         where a task leaves its waker for another thread
#ifndef POLLWAKE_TESTS_THREAD_POOL_TEST_SUPPORT_H_
#define POLLWAKE_TESTS_THREAD_POOL_TEST_SUPPORT_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "poll/context.h"
#include "poll/future.h"
#include "poll/waker.h"
#include "poll/waker_fn.h"

namespace pollwake::testing {

inline constexpr std::chrono::seconds kDeadline{20};

class Latch {
 public:
  explicit Latch(int count) : count_(count) {}
  void count_down() {
    std::lock_guard lock(mu_);
    if (--count_ <= 0) cv_.notify_all();
  }
  // True when the count reached zero before the deadline.
  bool wait(std::chrono::seconds limit = kDeadline) {
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
  int count_;
};

// eventually: true once pred() holds; false if it still does not at the deadline.
template <class Pred>
bool eventually(Pred pred, std::chrono::seconds limit = kDeadline) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// wait_output: polls `fut` on this thread whenever its waker is woken; the
// output, or nullopt if it is still pending at the deadline (a lost wakeup).
// Exceptions from poll propagate.
template <class F>
std::optional<OutputOf<F>> wait_output(F& fut, std::chrono::seconds limit = kDeadline) {
  struct Signal {
    std::mutex mu;
    std::condition_variable cv;
    bool woken = true;  // poll once at the start
  };
  auto signal = std::make_shared<Signal>();
  Waker waker = waker_fn([signal] {
    std::lock_guard lock(signal->mu);
    signal->woken = true;
    signal->cv.notify_all();
  });
  Context cx = Context::from_waker(waker);
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    {
      std::unique_lock lock(signal->mu);
      if (!signal->cv.wait_until(lock, deadline, [&] { return signal->woken; })) {
        return std::nullopt;
      }
      signal->woken = false;
    }
    Poll<OutputOf<F>> p = fut.poll(cx);
    if (p.is_ready()) return std::move(p).value();
  }
}

// DropCounter: increments `*count` when destroyed, unless moved from. Put one
// in a future to count how often that future is destroyed.
class DropCounter {
 public:
  explicit DropCounter(std::atomic<int>& count) : count_(&count) {}
  DropCounter(DropCounter&& other) noexcept : count_(std::exchange(other.count_, nullptr)) {}
  DropCounter& operator=(DropCounter&&) = delete;
  ~DropCounter() {
    if (count_ != nullptr) count_->fetch_add(1);
  }

 private:
  std::atomic<int>* count_;
};

// WakerSlot: a task stores the waker of its latest poll; any thread wakes it.
class WakerSlot {
 public:
  void store(const Waker& w) {
    std::lock_guard lock(mu_);
    if (waker_) {
      waker_->clone_from(w);
    } else {
      waker_.emplace(w);
    }
  }
  // Wakes the stored waker (by reference); false if none is stored yet.
  bool wake_by_ref() {
    std::optional<Waker> w;
    {
      std::lock_guard lock(mu_);
      if (!waker_) return false;
      w.emplace(*waker_);  // a clone, so the wake runs outside the lock
    }
    w->wake_by_ref();
    return true;
  }
  std::optional<Waker> take() {
    std::lock_guard lock(mu_);
    std::optional<Waker> w;
    w.swap(waker_);
    return w;
  }
  bool has_waker() {
    std::lock_guard lock(mu_);
    return waker_.has_value();
  }

 private:
  std::mutex mu_;
  std::optional<Waker> waker_;
};

}  // namespace pollwake::testing

#endif  // POLLWAKE_TESTS_THREAD_POOL_TEST_SUPPORT_H_
