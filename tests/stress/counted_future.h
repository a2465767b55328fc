// tests/stress/counted_future.h: the counted future the executor stress
// tests share.
//
//   Slot           one task's events and the waker of its latest poll
//   CountedFuture  Ready once its Slot has seen `total` events; counts polls,
//                  overlapping polls, polls after Ready, creations and
//                  destructions in a stress::Probe
//   Produce        makes events happen in many slots, waking each task after
//                  each event (wake_by_ref, or wake on a fresh clone)
#ifndef POLLWAKE_TESTS_STRESS_COUNTED_FUTURE_H_
#define POLLWAKE_TESTS_STRESS_COUNTED_FUTURE_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "poll/context.h"
#include "poll/latest_waker.h"
#include "poll/poll.h"
#include "poll/waker.h"
#include "tests/stress/stress_util.h"

namespace pollwake::stress {

// One task's shared state: events the producers made happen, and the waker
// of the task's latest poll.
struct Slot {
  std::atomic<int> events{0};
  std::mutex mu;
  LatestWaker waker;  // written under mu

  std::optional<Waker> clone_waker() {
    std::lock_guard lock(mu);
    return waker.clone();
  }
};

// Ready when its slot has seen `total` events; stores its waker first and
// checks again (the rule a Pending future keeps).
class CountedFuture {
 public:
  using Output = int;
  CountedFuture(Probe* probe, std::shared_ptr<Slot> slot, int total)
      : probe_(probe), slot_(std::move(slot)), total_(total) {
    probe_->created.fetch_add(1);
  }
  CountedFuture(CountedFuture&& o) noexcept
      : probe_(o.probe_), slot_(std::move(o.slot_)), total_(o.total_), live_(std::exchange(o.live_, false)) {}
  ~CountedFuture() {
    if (live_) probe_->destroyed.fetch_add(1);
  }
  Poll<int> poll(Context& cx) {
    PollScope scope(in_poll_, *probe_);
    if (done_) probe_->polls_after_ready.fetch_add(1);
    if (ready()) return finish();
    {
      std::lock_guard lock(slot_->mu);
      slot_->waker.update(cx.waker());
    }
    if (ready()) return finish();
    return Pending;
  }

 private:
  // ORDERING: acquire, pairs with the producers' release increments.
  bool ready() const { return slot_->events.load(std::memory_order_acquire) >= total_; }
  Poll<int> finish() {
    done_ = true;
    probe_->completed.fetch_add(1);
    return Ready(total_);
  }
  Probe* probe_;
  std::shared_ptr<Slot> slot_;
  int total_;
  bool live_ = true;
  bool done_ = false;
  std::atomic<bool> in_poll_{false};
};

// Producer `p` makes one event happen in each slot, `rounds` times, waking
// each task after each event (wake_by_ref, or wake on a fresh clone).
inline void Produce(std::vector<std::shared_ptr<Slot>>& slots, int p, int rounds) {
  for (int r = 0; r < rounds; ++r) {
    for (std::size_t i = 0; i < slots.size(); ++i) {
      Slot& s = *slots[(i + p) % slots.size()];
      // ORDERING: release, so the event is visible to the poll the wake causes.
      s.events.fetch_add(1, std::memory_order_release);
      if (std::optional<Waker> w = s.clone_waker()) {
        if ((r + p) % 2 == 0) {
          w->wake_by_ref();
        } else {
          std::move(*w).wake();
        }
      }
    }
    std::this_thread::yield();  // let the workers poll between rounds
  }
}

// True once every slot holds a waker: each task has been polled once.
inline bool AllPolledOnce(std::vector<std::shared_ptr<Slot>>& slots) {
  for (auto& s : slots) {
    if (!s->clone_waker()) return false;
  }
  return true;
}

// Wakes every stored waker (the watchdog's rescue).
inline void WakeAll(std::vector<std::shared_ptr<Slot>>& slots) {
  for (auto& s : slots) {
    if (auto w = s->clone_waker()) w->wake_by_ref();
  }
}

}  // namespace pollwake::stress

#endif  // POLLWAKE_TESTS_STRESS_COUNTED_FUTURE_H_
