// examples/08_select_timeout.cc: a timeout: race some work against a timer
// with `select`, and cancel the loser by dropping it.
//
//   bash .ci/tour.sh 08        (or: bazel run //examples:08_select_timeout)
//
// The Rust program this example rewrites (its twin, run by the Rust oracle
// test, is tests/oracles/rust/src/bin/ex08_select_timeout.rs):
//
//   use futures::future::{select, Either};
//   // Work: a leaf future (Pending `n` times, then Ready(7); or never ready).
//   // TimerFuture: the async book's timer (a helper thread wakes the waker).
//   async fn select_timeout(work: Work, limit: Duration) -> Result<u32, Elapsed> {
//       let timer = TimerFuture::new(limit);              // line 1
//       match select(work, timer).await {                 // line 2
//           Either::Left((v, _timer)) => {                // line 3
//               trace!("body: work won with {}", v);
//               Ok(v)                                     //   _timer dropped
//           }
//           Either::Right(((), _work)) => {               // line 4
//               trace!("body: the timer won");
//               Err(Elapsed)                              //   _work dropped
//           }
//       }
//   }
//
// What is new since 06: select (futures-rs `select`, pollwake poll/select.h)
// finishes with the first of its two futures and hands the other one back,
// still running. Dropping that loser is how it is canceled: a dropped timer
// stops and joins its thread and drops the waker it kept; dropped work just
// goes away. The state machine is the same shape as before (one await, one
// waiting state holding the Select), and the arms of the match are ordinary
// code after the await.
//
// Determinism: run 1's work is ready on its second poll, long before its
// 10 s limit, and dropping the timer ends its thread at once. Run 2's work
// is never ready and its limit is 20 ms. The timer thread may wake the waker
// at any moment after the timer's first poll, so nothing prints between that
// poll and main's wait: the timer is the last thing select polls, and the
// state machine and main return and wait silently. main waits at most 20 s
// for a wake, then reports a lost wakeup and fails.
//
// Each trace line is numbered; `// (n)` marks the statement that prints [n].
// Lines that start with `SelectTimeoutFuture` are the rewrite speaking;
// rustc's machine is silent, so the Rust oracle drops them before comparing.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <utility>
#include <variant>

#include "examples/trace.h"
#include "poll/context.h"
#include "poll/either.h"
#include "poll/future.h"
#include "poll/poll.h"
#include "poll/result.h"
#include "poll/select.h"
#include "poll/timer.h"
#include "poll/waker.h"

using pollwake::Context;
using pollwake::Err;
using pollwake::examples::PrintingTask;
using pollwake::examples::trace;
using pollwake::Ok;
using pollwake::Pending;
using pollwake::Poll;
using pollwake::Ready;
using pollwake::Result;
using pollwake::Select;
using pollwake::TimerFuture;
using pollwake::Waker;
using namespace std::chrono_literals;

namespace {

// ---------------------------------------------------------------------------
// The work: Pending `pending_polls` times (waking its own waker each time),
// then Ready(7); with `never`, Pending forever (like `future::pending()`,
// it arranges no wake: nothing will ever make it ready).

class Work {
 public:
  using Output = std::uint32_t;
  static Work ready_after(int pending_polls) { return Work(pending_polls); }
  static Work never() { return Work(-1); }
  // A C++ move leaves the source alive: disarm it, so only the owner prints
  // its drop (a Rust move is a plain copy of bytes and drops nothing).
  Work(Work&& other) noexcept
      : pending_polls_(other.pending_polls_), armed_(std::exchange(other.armed_, false)) {}
  Work& operator=(Work&&) = delete;
  ~Work() {
    if (armed_) trace("drop work");  // (11), (25)
  }

  Poll<std::uint32_t> poll(Context& cx) {
    if (pending_polls_ < 0) {
      trace("work::poll -> Pending (never ready)");  // (19), (23)
      return Pending;
    }
    if (pending_polls_ > 0) {
      --pending_polls_;
      cx.waker().wake_by_ref();
      trace("work::poll -> Pending (woke its own waker)");  // (6)
      return Pending;
    }
    trace("work::poll -> Ready(7)");  // (10)
    return Ready(std::uint32_t{7});
  }

 private:
  explicit Work(int pending_polls) : pending_polls_(pending_polls) {}
  int pending_polls_;
  bool armed_ = true;
};

// Rust: `struct Elapsed;`, the error of a timeout.
struct Elapsed {};
using Outcome = Result<std::uint32_t, Elapsed>;

// ---------------------------------------------------------------------------
// The rewrite.

// [START select_timeout_future]
struct NeverPolled {                  // the arguments, stored by the call
  Work work;
  std::chrono::milliseconds limit;
};
struct Awaiting {                     // suspended at line 2, `select(..).await`
  Select<Work, TimerFuture> select;   // line 2: owns `work` and `timer`
};
struct Finished {};

class SelectTimeoutFuture {
 public:
  using Output = Outcome;
  SelectTimeoutFuture(Work work, std::chrono::milliseconds limit)
      : state_(std::in_place_type<NeverPolled>, NeverPolled{std::move(work), limit}) {}

  Poll<Outcome> poll(Context& cx) {
    for (;;) {
      if (auto* s = std::get_if<NeverPolled>(&state_)) {
        TimerFuture timer(s->limit);                          // line 1
        Awaiting next{pollwake::select(std::move(s->work), std::move(timer))};  // line 2
        state_.emplace<Awaiting>(std::move(next));
        trace("SelectTimeoutFuture: NeverPolled -> Awaiting");  // (4), (17)
        continue;
      }
      if (auto* s = std::get_if<Awaiting>(&state_)) {
        trace("SelectTimeoutFuture::poll: Awaiting, polls the select");  // (5), (9), (18), (22)
        auto p = s->select.poll(cx);  // line 2: work first, then the timer
        if (p.is_pending()) {
          // Nothing prints after the timer's poll: its thread may be waking
          // the waker already (see "Determinism" at the top).
          return Pending;
        }
        auto either = std::move(p).value();  // line 2: the winner is gone
        Outcome out = Err(Elapsed{});
        if (either.is_left()) {                          // line 3
          auto [v, timer] = std::move(either).left();
          trace("body: work won with %u", v);            // (12)
          out = Ok(v);
        }  // line 3: `_timer` dropped here: its thread is stopped and joined
        else {                                           // line 4
          auto [unit, work] = std::move(either).right();
          trace("body: the timer won");                  // (24)
          out = Err(Elapsed{});
        }  // line 4: `_work` dropped here
        state_ = Finished{};
        trace("SelectTimeoutFuture: Awaiting -> Finished");  // (13), (26)
        return Ready(std::move(out));
      }
      pollwake::polled_after_completion("select_timeout");  // Finished
    }
  }

 private:
  std::variant<NeverPolled, Awaiting, Finished> state_;
};

SelectTimeoutFuture select_timeout(Work work, std::chrono::milliseconds limit) {
  return SelectTimeoutFuture(std::move(work), limit);
}
// [END select_timeout_future]

static_assert(pollwake::Future<SelectTimeoutFuture>);

// ---------------------------------------------------------------------------
// The task main polls; its waker prints each vtable call (trace.h), and may
// be called from the timer's thread: main waits for it with wait_woken.
PrintingTask g_task{"select_timeout"};

// drive: a hand-written block_on: poll; on Pending wait for the wake (at
// most 20 s: a lost wakeup fails instead of hanging), then poll again.
std::optional<Outcome> drive(SelectTimeoutFuture& fut, Context& cx) {
  for (int n = 1;; ++n) {
    trace("main: poll #%d", n);  // (3), (8), (16), (21)
    Poll<Outcome> p = fut.poll(cx);
    std::fflush(stdout);  // the timer thread may print next
    if (p.is_ready()) return std::move(p).value();
    if (!g_task.wait_woken(std::chrono::seconds(20))) {
      trace("main: no wake within 20 s: a lost wakeup");
      return std::nullopt;
    }
    trace("main: woken");  // (7), (20)
  }
}

const char* show(const std::optional<Outcome>& r) {
  if (!r) return "none";
  return r->is_ok() ? "Ok(7)" : "Err(Elapsed)";
}

}  // namespace

int main() {
  Waker waker = g_task.waker();
  Context cx = Context::from_waker(waker);
  trace("main: sizeof(SelectTimeoutFuture) = %zu bytes", sizeof(SelectTimeoutFuture));  // (1)

  // [START drive_select]
  std::optional<Outcome> r;
  {
    SelectTimeoutFuture fut = select_timeout(Work::ready_after(1), 10s);
    trace("main: run 1: work ready on its 2nd poll, limit 10 s");  // (2)
    r = drive(fut, cx);
    trace("main: run 1 = %s", show(r));  // (14)
  }
  {
    SelectTimeoutFuture fut = select_timeout(Work::never(), 20ms);
    trace("main: run 2: work never ready, limit 20 ms");  // (15)
    r = drive(fut, cx);
    trace("main: run 2 = %s", show(r));  // (27)
  }
  // [END drive_select]
  trace("main: end; main's own waker is dropped");  // (28)
  return r && r->is_err() ? 0 : 1;
}
