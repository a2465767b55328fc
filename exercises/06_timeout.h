// Exercise 06: add a timeout.                              (docs chapter 3)
//
// Rust: `select(fut, sleep(d))`, or tokio's `timeout(d, fut)`: whichever is
// ready first wins; if the timer wins, the work is dropped (cancelled) and
// the answer is "timed out". Timeout<F, T> should give Ready(value) when `fut`
// finishes first, and Ready(nullopt) when the timer does. This one never
// looks at its timer, so a future that never finishes waits forever.
//
// HINT: when fut_ is Pending, poll timer_ with the same cx; if the timer is
// HINT: Ready, return Ready(Output()) (an empty optional). Polling the timer
// HINT: also makes it store the waker, so the task is woken when it fires.
#ifndef POLLWAKE_EXERCISES_06_TIMEOUT_H_
#define POLLWAKE_EXERCISES_06_TIMEOUT_H_

#include <optional>
#include <utility>

#include "exercises/support.h"
#include "poll/future.h"

namespace exercises {

template <pollwake::Future F, pollwake::Future T>
class Timeout {
 public:
  using Output = std::optional<pollwake::OutputOf<F>>;
  Timeout(F fut, T timer) : fut_(std::move(fut)), timer_(std::move(timer)) {}

  Poll<Output> poll(Context& cx) {
    Poll<pollwake::OutputOf<F>> p = fut_.poll(cx);
    if (p.is_ready()) return Ready(Output(std::move(p).value()));
    return Pending;  // TODO: and the timer?
  }

 private:
  F fut_;
  T timer_;
};

template <class F, class T>
Timeout<F, T> with_timeout(F fut, T timer) {
  return Timeout<F, T>(std::move(fut), std::move(timer));
}

}  // namespace exercises

#endif  // POLLWAKE_EXERCISES_06_TIMEOUT_H_
