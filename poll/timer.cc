// poll/timer.cc: the out-of-line parts of poll/timer.h (TimerFuture's
// thread, the Timer service's loop).
#include "poll/timer.h"

#include <utility>

namespace pollwake {

namespace {
void wake_all(std::vector<TakenWaker>& wakers) {
  for (TakenWaker& w : wakers) std::move(w).wake();
  wakers.clear();
}
}  // namespace

// ---------------------------------------------------------------------------
// TimerFuture

TimerFuture::~TimerFuture() {
  if (!thread_.joinable()) return;  // never started, or moved from
  {
    std::lock_guard lock(shared_->mu);
    shared_->canceled = true;  // the thread stops waiting, touches nothing more
  }
  shared_->cv.notify_one();
  if (thread_.get_id() == std::this_thread::get_id()) {
    thread_.detach();  // dropped from inside our own wake: it holds its own Arc
  } else {
    thread_.join();
  }
}

Poll<Unit> TimerFuture::poll(Context& cx) {
  if (done_) polled_after_completion("TimerFuture");
  if (!shared_) {
    // First poll: nothing has happened yet (the future was inert until now).
    if (TimerClock::now() >= deadline_) {
      done_ = true;
      return Ready();
    }
    Arc<Shared> shared = Arc<Shared>::make();
    shared->waker.update(cx.waker());  // stored before the thread can look
    // The thread owns its own reference: it never depends on this object.
    // If the thread cannot be started (std::system_error), shared_ stays
    // empty and the next poll tries again.
    thread_ = std::thread([shared, deadline = deadline_] {
      TakenWaker to_wake;
      {
        std::unique_lock lock(shared->mu);
        if (shared->cv.wait_until(lock, deadline, [&] { return shared->canceled; })) {
          return;  // the future was dropped: nobody to wake
        }
        shared->completed = true;
        to_wake = shared->waker.take();
      }
      std::move(to_wake).wake();  // after unlocking: the waker may poll inline
    });
    shared_ = std::move(shared);
    return Pending;
  }
  std::lock_guard lock(shared_->mu);
  if (shared_->completed) {
    done_ = true;
    return Ready();
  }
  shared_->waker.update(cx.waker());  // only the latest waker counts
  return Pending;
}

// ---------------------------------------------------------------------------
// Timer / Sleep

void detail::TimerCore::run() {
  std::vector<TakenWaker> due;
  std::unique_lock lock(mu);
  while (!shutdown) {
    if (heap.empty()) {
      cv.wait(lock);
      continue;
    }
    if (TimerClock::now() < heap.top().deadline) {
      // A copy, not heap.top().deadline itself: wait_until reads its
      // argument again after waking, and a sleep registered meanwhile may
      // have reallocated the heap's storage (a use-after-free under ASan).
      const TimerClock::time_point deadline = heap.top().deadline;
      cv.wait_until(lock, deadline);  // a new earlier deadline notifies
      continue;
    }
    while (!heap.empty() && heap.top().deadline <= TimerClock::now()) {
      TimerEntry& e = *heap.top().entry;
      e.fired = true;
      due.push_back(e.waker.take());
      heap.pop();
    }
    lock.unlock();
    wake_all(due);  // after unlocking: a waker may poll a Sleep inline
    lock.lock();
  }
  // Shut down: wake every pending Sleep so that its task sees TimerShutDown
  // instead of sleeping forever.
  while (!heap.empty()) {
    TimerEntry& e = *heap.top().entry;
    due.push_back(e.waker.take());
    heap.pop();
  }
  lock.unlock();
  wake_all(due);
}

Timer::Timer() : core_(Arc<detail::TimerCore>::make()) {
  thread_ = std::thread([core = core_] { core->run(); });
}

Timer::~Timer() {
  {
    std::lock_guard lock(core_->mu);
    core_->shutdown = true;
  }
  core_->cv.notify_one();
  if (thread_.get_id() == std::this_thread::get_id()) {
    thread_.detach();  // dropped from inside a wake on the timer thread
  } else {
    thread_.join();
  }
}

Sleep::~Sleep() {
  if (!entry_) return;  // never registered, or moved from
  TakenWaker forgotten;  // nobody to wake any more; dropped after unlocking
  std::lock_guard lock(core_->mu);
  forgotten = entry_->waker.take();
}

Poll<Unit> Sleep::poll(Context& cx) {
  if (done_) polled_after_completion("Sleep");
  std::unique_lock lock(core_->mu);
  if (entry_ && entry_->fired) {
    done_ = true;
    return Ready();
  }
  if (core_->shutdown) throw TimerShutDown();
  if (!entry_) {
    // First poll: register the deadline, unless it has already passed.
    if (TimerClock::now() >= deadline_) {
      done_ = true;
      return Ready();
    }
    entry_ = Arc<detail::TimerEntry>::make();
    entry_->waker.update(cx.waker());
    bool earliest = core_->heap.empty() || deadline_ < core_->heap.top().deadline;
    core_->heap.push({deadline_, core_->next_seq++, entry_});
    lock.unlock();
    if (earliest) core_->cv.notify_one();  // the thread must wait less now
    return Pending;
  }
  entry_->waker.update(cx.waker());  // only the latest waker counts
  return Pending;
}

}  // namespace pollwake
