// interop/js/event_loop.h
//
// Models the JavaScript job queues as node runs them (the ECMAScript job
// queue for promise jobs, and the host's timer queue): one thread, one
// current job at a time, and between two macrotasks the microtask queue is
// drained completely.
//
//   JavaScript / node                          pollwake::js
//   the script, then the event loop            EventLoop loop; loop.Run(script)
//   queueMicrotask(f), a promise reaction job  QueueMicrotask(f)
//   setTimeout(f, ms)                          SetTimeout(f, ms)
//
// What a reader may rely on (node's rules, for the queues modelled here):
//   * Run(script) runs `script` as the first macrotask. After it returns,
//     and after every later macrotask, every microtask runs, in FIFO order,
//     including microtasks queued by microtasks, before the next macrotask.
//   * Timers are macrotasks, run in order of their due time, ties in the
//     order SetTimeout was called. A delay below 1 ms counts as 1 ms (node).
//   * Run returns when both queues are empty.
//   * A callback that throws ends Run with that exception (node prints it and
//     exits); the jobs still queued are dropped.
//
// How pollwake differs, and why: time is virtual. A timer does not wait for
// the wall clock; Run jumps the clock to the next due time. Only the order
// of callbacks is the lesson here, and virtual time makes it exact (node's
// real clock gives the same order for timers whose due times differ, and
// for a busy job that outlasts a timer: the timer waits for the job to end).
// setImmediate, I/O callbacks and process.nextTick are not modelled.
//
// Misuse: QueueMicrotask/SetTimeout outside a running loop, and Run inside
// a running loop, throw std::logic_error. Everything here is for one thread
// (as a JavaScript agent is); the loop is the current one of the thread
// that calls Run.
#ifndef POLLWAKE_INTEROP_JS_EVENT_LOOP_H_
#define POLLWAKE_INTEROP_JS_EVENT_LOOP_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <stdexcept>
#include <utility>

namespace pollwake::js {

class EventLoop {
 public:
  EventLoop() = default;
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // The loop running on this thread; throws std::logic_error if none is.
  static EventLoop& Current() {
    if (current_ == nullptr) throw std::logic_error("pollwake::js: no EventLoop is running on this thread");
    return *current_;
  }

  void QueueMicrotask(std::function<void()> job) { microtasks_.push_back(std::move(job)); }

  void SetTimeout(std::function<void()> callback, std::int64_t ms) {
    const std::int64_t due = now_ + (ms < 1 ? 1 : ms);
    timers_.emplace(std::make_pair(due, next_seq_++), std::move(callback));
  }

  // Virtual milliseconds since Run started.
  std::int64_t Now() const noexcept { return now_; }

  void Run(std::function<void()> script) {
    if (current_ != nullptr) throw std::logic_error("pollwake::js: EventLoop::Run inside a running loop");
    current_ = this;
    struct Reset {
      ~Reset() { current_ = nullptr; }
    } reset;
    script();
    DrainMicrotasks();
    while (!timers_.empty()) {
      auto first = timers_.begin();
      now_ = first->first.first;
      std::function<void()> callback = std::move(first->second);
      timers_.erase(first);
      callback();
      DrainMicrotasks();
    }
  }

 private:
  void DrainMicrotasks() {
    while (!microtasks_.empty()) {
      std::function<void()> job = std::move(microtasks_.front());
      microtasks_.pop_front();
      job();
    }
  }

  static inline thread_local EventLoop* current_ = nullptr;
  std::deque<std::function<void()>> microtasks_;
  // Keyed by (due time, call order): the order node runs them in.
  std::map<std::pair<std::int64_t, std::uint64_t>, std::function<void()>> timers_;
  std::int64_t now_ = 0;
  std::uint64_t next_seq_ = 0;
};

// queueMicrotask(f) on the current loop.
inline void QueueMicrotask(std::function<void()> job) { EventLoop::Current().QueueMicrotask(std::move(job)); }

// setTimeout(f, ms) on the current loop.
inline void SetTimeout(std::function<void()> callback, std::int64_t ms) {
  EventLoop::Current().SetTimeout(std::move(callback), ms);
}

}  // namespace pollwake::js

#endif  // POLLWAKE_INTEROP_JS_EVENT_LOOP_H_
