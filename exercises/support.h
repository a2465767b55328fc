// exercises/support.h: what the exercises' tests share. A TaskProbe is a
// task that counts its wakes (its waker is a waker_fn); an Event is a future
// the test completes by hand, and it stores the waker of its latest poll, as
// every leaf future must.
#ifndef POLLWAKE_EXERCISES_SUPPORT_H_
#define POLLWAKE_EXERCISES_SUPPORT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

#include "poll/context.h"
#include "poll/poll.h"
#include "poll/waker.h"
#include "poll/waker_fn.h"

namespace exercises {

using pollwake::Context;
using pollwake::Pending;
using pollwake::Poll;
using pollwake::Ready;
using pollwake::Waker;

// TaskProbe: a task that only counts how often its waker was woken. Each
// probe has one waker (will_wake tells two probes apart).
class TaskProbe {
 public:
  TaskProbe() : waker_(pollwake::waker_fn([w = wakes_] { w->fetch_add(1); })) {}
  const Waker& waker() const { return waker_; }
  int wakes() const { return wakes_->load(); }

 private:
  std::shared_ptr<std::atomic<int>> wakes_ = std::make_shared<std::atomic<int>>(0);
  Waker waker_;
};

// EventSlot / Event: `fire(v)` completes the event and wakes the waker its
// future was last polled with. `polls` counts the Event's polls.
struct EventSlot {
  std::optional<std::uint32_t> value;
  std::optional<Waker> waker;
  int polls = 0;
  void fire(std::uint32_t v) {
    value = v;
    if (waker) {
      Waker w = std::move(*waker);
      waker.reset();
      std::move(w).wake();
    }
  }
};

class Event {
 public:
  using Output = std::uint32_t;
  explicit Event(EventSlot& slot) : slot_(&slot) {}
  Poll<std::uint32_t> poll(Context& cx) {
    ++slot_->polls;
    if (slot_->value) return Ready(*slot_->value);
    if (!slot_->waker || !slot_->waker->will_wake(cx.waker())) slot_->waker.emplace(cx.waker());
    return Pending;
  }

 private:
  EventSlot* slot_;
};

}  // namespace exercises

#endif  // POLLWAKE_EXERCISES_SUPPORT_H_
