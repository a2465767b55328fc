// poll/context.h
//
// Models Rust's `std::task::Context<'a>`: what a future receives when it is
// polled. Today it carries only a borrowed `&'a Waker`.
//
//   Rust                        pollwake
//   Context::from_waker(&w)     Context::from_waker(w)
//   cx.waker()                  cx.waker()   (a `const Waker&`)
//
// How pollwake differs, and why: Rust's lifetime `'a` stops a Context from
// outliving its Waker or escaping the poll. C++ cannot check that, so Context
// cannot be copied or moved: it lives on the poller's stack for one poll, and
// a future that needs the waker later clones it (`Waker w = cx.waker();`).
//
// Its promises, and the tests that check them, are written once in
// docs/guarantees.md ("Wakers").
#ifndef POLLWAKE_POLL_CONTEXT_H_
#define POLLWAKE_POLL_CONTEXT_H_

#include "poll/waker.h"

namespace pollwake {

// [START context]
class Context {
 public:
  // Context::from_waker: borrows `waker`, which must outlive the Context.
  static Context from_waker(const Waker& waker) noexcept { return Context(waker); }
  // A temporary Waker would die at the end of the full expression and leave
  // the Context dangling (Rust's lifetime `'a` refuses the same code).
  static Context from_waker(const Waker&& waker) = delete;

  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  // Context::waker: the waker of the current poll. A future that returns
  // Pending must arrange for this waker (or a clone) to be woken.
  const Waker& waker() const noexcept { return *waker_; }

 private:
  explicit Context(const Waker& waker) noexcept : waker_(&waker) {}
  const Waker* waker_;
};
// [END context]

}  // namespace pollwake

#endif  // POLLWAKE_POLL_CONTEXT_H_
