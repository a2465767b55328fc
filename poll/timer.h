// poll/timer.h
//
// Models the async book's `TimerFuture` ("Build a Timer", the chapter before
// the first executor): a leaf future whose completion comes from another
// thread, and, cheaper, a timer service in the style of `tokio::time::sleep`
// (one thread and a heap of deadlines for any number of sleeps).
//
//   Rust (async book / tokio)                pollwake
//   TimerFuture::new(duration).await         TimerFuture(duration)      Output Unit
//   shared_state: Mutex<{completed, waker}>  the same, under a std::mutex
//   thread::spawn(move || { sleep; ... })    one std::thread per TimerFuture
//   tokio::time::sleep(d).await              timer.sleep(d)  -> Sleep   Output Unit
//
// TimerFuture: the deadline is fixed when the future is made (now + d), as
// in the book, but the helper thread is started by the first poll, not by
// the constructor: a future that is never polled does nothing and costs no
// thread (the book starts it at once). If the deadline has already passed at
// the first poll, the future is Ready without a thread. Otherwise the thread
// sleeps until the deadline, then, under the mutex, sets `completed` and
// takes the stored waker, and wakes it after unlocking. Each poll stores
// the latest waker (clone_from: no clone when it is the same task).
//
// Dropping a TimerFuture is always safe: the destructor marks the shared
// state canceled, wakes the thread's wait, and joins it, so the thread never
// touches freed state (the state is also shared by an Arc, so even a thread
// that outlived the future would be safe). The join is prompt: the thread
// waits on a condition variable, not in sleep_for. A TimerFuture dropped by
// its own helper thread (a waker that destroys the task inline) detaches
// instead of joining itself.
//
// Timer / Sleep: one Timer owns one thread and a min-heap of deadlines.
// timer.sleep(d) returns a Sleep; its first poll registers the deadline, and
// the thread wakes each Sleep's latest waker when its deadline passes.
// Dropping a Sleep forgets its waker at once; its heap entry stays until its
// deadline passes (tokio removes it at once; a teaching simplification).
// Dropping the Timer stops its thread and wakes every pending Sleep; a Sleep
// polled after its Timer is gone (and not yet fired) throws TimerShutDown,
// where tokio panics for the same misuse. Each Sleep keeps the Timer's state
// alive, so this is never a use-after-free.
//
// Both futures throw FuturePolledAfterCompletion when polled after Ready.
// Deadlines use std::chrono::steady_clock.
//
// Its promises, and the tests that check them, are written once in
// docs/guarantees.md ("Futures, combinators and timers").
#ifndef POLLWAKE_POLL_TIMER_H_
#define POLLWAKE_POLL_TIMER_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <queue>
#include <stdexcept>
#include <thread>
#include <vector>

#include "poll/arc.h"
#include "poll/context.h"
#include "poll/latest_waker.h"
#include "poll/poll.h"
#include "poll/waker.h"

namespace pollwake {

using TimerClock = std::chrono::steady_clock;

class TimerFuture {
 public:
  using Output = Unit;

  explicit TimerFuture(TimerClock::duration d) : deadline_(TimerClock::now() + d) {}
  TimerFuture(TimerFuture&&) noexcept = default;  // the state is on the heap
  TimerFuture& operator=(TimerFuture&&) = delete;
  ~TimerFuture();

  Poll<Unit> poll(Context& cx);

 private:
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    bool completed = false;       // written under mu, by the thread
    bool canceled = false;        // written under mu, by the destructor
    LatestWaker waker;            // written under mu: the latest poll's waker
  };

  TimerClock::time_point deadline_;
  // Made by the first poll that needs a thread; empty until then
  Arc<Shared> shared_;
  std::thread thread_;
  bool done_ = false;
};

// TimerShutDown: a Sleep was polled after its Timer was dropped.
class TimerShutDown : public std::runtime_error {
 public:
  TimerShutDown() : std::runtime_error("Sleep polled after its Timer was dropped") {}
};

namespace detail {
struct TimerEntry {
  bool fired = false;           // written under TimerCore::mu
  LatestWaker waker;            // written under TimerCore::mu
};
struct TimerCore {
  struct Item {
    TimerClock::time_point deadline;
    std::uint64_t seq;  // ties broken by registration order
    Arc<TimerEntry> entry;
    bool operator>(const Item& o) const {
      return deadline != o.deadline ? deadline > o.deadline : seq > o.seq;
    }
  };
  std::mutex mu;
  std::condition_variable cv;
  bool shutdown = false;  // written under mu
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> heap;  // written under mu
  std::uint64_t next_seq = 0;  // written under mu

  void run();  // the timer thread's loop
};
}  // namespace detail

class Timer;

// Sleep: the future of Timer::sleep / sleep_until.
class Sleep {
 public:
  using Output = Unit;
  Sleep(Sleep&&) noexcept = default;
  Sleep& operator=(Sleep&&) = delete;
  ~Sleep();

  Poll<Unit> poll(Context& cx);

 private:
  friend class Timer;
  Sleep(Arc<detail::TimerCore> core, TimerClock::time_point deadline)
      : core_(std::move(core)), deadline_(deadline) {}

  Arc<detail::TimerCore> core_;
  TimerClock::time_point deadline_;
  // Made and queued by the first poll; empty until then.
  Arc<detail::TimerEntry> entry_;
  bool done_ = false;
};

class Timer {
 public:
  // Timer::Timer: starts the timer thread.
  Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  // Timer::~Timer: stops the thread; pending sleeps are woken and then throw
  // TimerShutDown when polled.
  ~Timer();

  Sleep sleep(TimerClock::duration d) { return Sleep(core_, TimerClock::now() + d); }
  Sleep sleep_until(TimerClock::time_point deadline) { return Sleep(core_, deadline); }

 private:
  Arc<detail::TimerCore> core_;
  std::thread thread_;
};

}  // namespace pollwake

#endif  // POLLWAKE_POLL_TIMER_H_
