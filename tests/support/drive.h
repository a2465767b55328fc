// tests/support/drive.h: driving a future by hand, without an executor.
//
//   poll_once(f, w)     one poll of `f` with waker `w`.
//   wait_output(f)      polls `f` on this thread whenever its waker is woken,
//                       until Ready; nullopt if a Pending poll is not followed
//                       by a wake within the deadline (a lost wakeup: the
//                       caller FAILs). A tiny stand-in for executor/'s
//                       block_on that cannot hang. Exceptions from poll
//                       propagate.
//   Parker              an Arc-owned waker target for cross-thread tests
//                       (waker_from(parker)): wake_by_ref sets a flag and
//                       notifies; wait_for consumes the flag, waiting at most
//                       the deadline.
#ifndef POLLWAKE_TESTS_SUPPORT_DRIVE_H_
#define POLLWAKE_TESTS_SUPPORT_DRIVE_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "poll/context.h"
#include "poll/future.h"
#include "poll/poll.h"
#include "poll/waker.h"
#include "poll/waker_fn.h"
#include "tests/support/deadline.h"

namespace pollwake::testing {

struct Parker {
  mutable std::mutex mu;
  mutable std::condition_variable cv;
  mutable bool notified = false;  // under mu
  mutable std::atomic<int> wakes{0};

  // const: wakers share the target (the Wake concept, poll/wake.h).
  void wake_by_ref() const {
    wakes.fetch_add(1);
    {
      std::lock_guard lock(mu);
      notified = true;
    }
    cv.notify_one();
  }
  // True if woken (now or earlier); false if `limit` passed without a wake.
  bool wait_for(std::chrono::milliseconds limit = kDeadline) {
    std::unique_lock lock(mu);
    bool ok = cv.wait_for(lock, limit, [this] { return notified; });
    notified = false;
    return ok;
  }
};

template <Future F>
Poll<OutputOf<F>> poll_once(F& f, const Waker& w) {
  Context cx = Context::from_waker(w);
  return f.poll(cx);
}

template <Future F>
std::optional<OutputOf<F>> wait_output(F& f, std::chrono::milliseconds limit = kDeadline) {
  struct Signal {
    std::mutex mu;
    std::condition_variable cv;
    bool woken = true;  // under mu; true: poll once at the start
  };
  auto signal = std::make_shared<Signal>();
  Waker waker = waker_fn([signal] {
    std::lock_guard lock(signal->mu);
    signal->woken = true;
    signal->cv.notify_all();
  });
  Context cx = Context::from_waker(waker);
  for (;;) {
    {
      std::unique_lock lock(signal->mu);
      // The limit counts from the last wake: a slow but live future passes.
      if (!signal->cv.wait_for(lock, limit, [&] { return signal->woken; })) return std::nullopt;
      signal->woken = false;
    }
    Poll<OutputOf<F>> p = f.poll(cx);
    if (p.is_ready()) return std::optional<OutputOf<F>>(std::move(p).value());
  }
}

}  // namespace pollwake::testing

#endif  // POLLWAKE_TESTS_SUPPORT_DRIVE_H_
