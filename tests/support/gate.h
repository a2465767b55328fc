// tests/support/gate.h: futures and slots a test controls from outside.
//
//   WakerSlot       where a task leaves the waker of its latest poll for
//                   another thread (a LatestWaker under its own lock).
//   Gate/GateFuture a future that is Pending until the test opens its gate;
//                   counts polls and drops, keeps the latest waker; another
//                   thread waits for the first poll with wait_for_waker()
//                   (bounded by the deadline, never a spin without end).
//   YieldFuture     wakes itself and returns Pending `n` times, then Ready
//                   (tokio's / futures-lite's yield_now, repeated; futures-rs
//                   has no yield_now); logs its polls.
#ifndef POLLWAKE_TESTS_SUPPORT_GATE_H_
#define POLLWAKE_TESTS_SUPPORT_GATE_H_

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "poll/context.h"
#include "poll/latest_waker.h"
#include "poll/poll.h"
#include "poll/waker.h"
#include "tests/support/deadline.h"

namespace pollwake::testing {

class WakerSlot {
 public:
  void store(const Waker& w) {
    std::lock_guard lock(mu_);
    waker_.update(w);
  }
  // Wakes (by reference) a clone of the stored waker, outside the lock;
  // false if none is stored yet.
  bool wake_by_ref() {
    std::optional<Waker> w = clone();
    if (!w) return false;
    w->wake_by_ref();
    return true;
  }
  // Empties the slot; wake the result (it is outside the lock already).
  TakenWaker take() {
    std::lock_guard lock(mu_);
    return waker_.take();
  }
  std::optional<Waker> clone() {
    std::lock_guard lock(mu_);
    return waker_.clone();
  }
  bool has_waker() {
    std::lock_guard lock(mu_);
    return waker_.has_waker();
  }

 private:
  std::mutex mu_;
  LatestWaker waker_;  // under mu_
};

struct Gate {
  std::atomic<bool> open{false};
  WakerSlot waker;  // the latest poll's waker
  std::atomic<int> polls{0};
  std::atomic<int> drops{0};

  // Opens the gate and wakes the stored waker.
  void open_and_wake() {
    // ORDERING: release, so a poll that sees the gate open (acquire) sees
    // what the test did before opening it.
    open.store(true, std::memory_order_release);
    waker.take().wake();
  }
  // Wakes the stored waker without opening the gate.
  void wake_only() {
    if (std::optional<Waker> w = waker.clone()) std::move(*w).wake();
  }
  std::optional<Waker> clone_waker() { return waker.clone(); }
  // Waits until a poll has stored its waker (the task is parked on the
  // gate), polling every millisecond; false if none did within `limit`.
  // The caller opens the gate either way (so the task finishes) and FAILs
  // on false.
  bool wait_for_waker(std::chrono::milliseconds limit = kDeadline) {
    return eventually([this] { return waker.has_waker(); }, limit);
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
    // ORDERING: acquire, pairs with open_and_wake's release.
    if (gate_->open.load(std::memory_order_acquire)) return Ready(value_);
    gate_->waker.store(cx.waker());
    // Checked again after storing: an open_and_wake between the first check
    // and the store found no waker to wake.
    if (gate_->open.load(std::memory_order_acquire)) return Ready(value_);
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

}  // namespace pollwake::testing

#endif  // POLLWAKE_TESTS_SUPPORT_GATE_H_
