// poll/yield_now.h
//
// Models `tokio::task::yield_now()` (async-std's `task::yield_now` and
// futures-lite's `future::yield_now` are the same idea; futures-rs has no
// yield_now, code written against it wakes its own waker and returns Pending
// by hand): give other tasks a turn, then carry on.
//
//   Rust                                pollwake
//   tokio::task::yield_now().await      yield_now() -> YieldNow, Output Unit
//
// The first poll wakes the current waker (cx.waker().wake_by_ref()) and
// returns Pending, so the executor puts the task at the back of its ready
// queue; the second poll returns Ready(). A third poll throws
// FuturePolledAfterCompletion (Rust's async block would panic).
//
// How pollwake differs, and why: tokio's yield_now defers the wake to the
// runtime so the task is not re-polled before other ready tasks; pollwake
// wakes at once, as futures-rs code does by hand, and relies on the executor
// to queue the woken task behind those already ready.
//
// Its promises, and the tests that check them, are written once in
// docs/guarantees.md ("Futures, combinators and timers").
#ifndef POLLWAKE_POLL_YIELD_NOW_H_
#define POLLWAKE_POLL_YIELD_NOW_H_

#include "poll/context.h"
#include "poll/poll.h"

namespace pollwake {

class YieldNow {
 public:
  using Output = Unit;

  Poll<Unit> poll(Context& cx) {
    switch (state_) {
      case State::kStart:
        state_ = State::kYielded;
        cx.waker().wake_by_ref();  // Pending is only allowed with a wake arranged
        return Pending;
      case State::kYielded:
        state_ = State::kDone;
        return Ready();
      case State::kDone:
        break;
    }
    polled_after_completion("yield_now");
  }

 private:
  enum class State { kStart, kYielded, kDone };  // kStart -> kYielded -> kDone
  State state_ = State::kStart;
};

inline YieldNow yield_now() { return {}; }

}  // namespace pollwake

#endif  // POLLWAKE_POLL_YIELD_NOW_H_
