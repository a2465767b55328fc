// examples/06_join_two.cc: two awaits joined: one await point that waits for
// two futures at once.
//
//   bash .ci/tour.sh 06        (or: bazel run //examples:06_join_two)
//
// The Rust program this example rewrites (its twin, run by the Rust oracle
// test, is tests/oracles/rust/src/bin/ex06_join_two.rs):
//
//   use futures::future::join;
//   // event(name): Pending (storing the waker) until main fires it.
//   async fn join_two() -> u32 {
//       let (a, b) = join(event('a'), event('b')).await;  // line 1
//       trace!("body: a = {}, b = {}", a, b);             // line 2
//       a + b                                             // line 3
//   }
//
// What is new since 05: the awaited future is a combinator, Join (futures-rs
// `join`, pollwake poll/join.h). The state machine does not change shape:
// one await point, one waiting state, and that state holds the Join, which
// holds both event futures. What the trace shows is Join's own rule: every
// poll of the Join polls each inner future that has not finished yet, in
// argument order, with the same waker; a future that returns Ready is
// dropped at once and never polled again. So when main fires `b` first, the
// next poll asks `a` again too (it is still pending), and once `a` fires,
// only `a` is polled. Both events clone the one waker they are given.
//
// main() is the outside world: it fires `b`, then `a`, and polls after each
// wake. The waker prints each vtable call.
//
// Each trace line is numbered; `// (n)` marks the statement that prints [n].
// Lines that start with `JoinTwoFuture` are the rewrite speaking; rustc's
// machine is silent, so the Rust oracle drops those lines before comparing.

#include <cstdint>
#include <optional>
#include <tuple>
#include <utility>
#include <variant>

#include "examples/trace.h"
#include "poll/context.h"
#include "poll/future.h"
#include "poll/join.h"
#include "poll/poll.h"
#include "poll/waker.h"

using pollwake::Context;
using pollwake::examples::PrintingTask;
using pollwake::examples::trace;
using pollwake::Join;
using pollwake::Pending;
using pollwake::Poll;
using pollwake::Ready;
using pollwake::Waker;

namespace {

// ---------------------------------------------------------------------------
// The events: as in 01, but two of them, named 'a' and 'b'. main() fires
// them; each keeps the waker of its latest poll.

struct EventSlot {
  std::optional<std::uint32_t> value;  // set by fire()
  std::optional<Waker> waker;          // the waker of the latest poll
};
EventSlot g_slots[2];  // [0] is event 'a', [1] is event 'b'

// [START event_future]
class EventFuture {
 public:
  using Output = std::uint32_t;
  explicit EventFuture(char name) : name_(name) {}
  // A C++ move leaves the source alive: disarm it, so only the owner prints
  // its drop (a Rust move is a plain copy of bytes and drops nothing).
  EventFuture(EventFuture&& other) noexcept
      : name_(other.name_), armed_(std::exchange(other.armed_, false)) {}
  EventFuture& operator=(EventFuture&&) = delete;
  ~EventFuture() {
    if (armed_) trace("drop event(%c)", name_);  // (13), (19)
  }

  Poll<std::uint32_t> poll(Context& cx) {
    EventSlot& slot = g_slots[name_ - 'a'];
    if (slot.value) {
      trace("event(%c)::poll -> Ready(%u)", name_, *slot.value);  // (12), (18)
      return Ready(*slot.value);
    }
    if (slot.waker && slot.waker->will_wake(cx.waker())) {
      trace("event(%c)::poll -> Pending (same waker, kept)", name_);  // (11)
    } else {
      slot.waker.emplace(cx.waker());  // the vtable's clone runs
      trace("event(%c)::poll -> Pending (waker stored)", name_);  // (5), (6)
    }
    return Pending;
  }

 private:
  char name_;
  bool armed_ = true;
};
// [END event_future]

EventFuture event(char name) { return EventFuture(name); }

// fire: the outside world completes event `name` and wakes its waker.
void fire(char name, std::uint32_t value) {
  EventSlot& slot = g_slots[name - 'a'];
  slot.value = value;
  if (slot.waker) {
    Waker w = std::move(*slot.waker);
    slot.waker.reset();
    std::move(w).wake();  // consumed: no drop follows
  }
}

// ---------------------------------------------------------------------------
// The rewrite.

// [START join_two_future]
struct NeverPolled {};
struct Awaiting {                       // suspended at line 1, `join(..).await`
  Join<EventFuture, EventFuture> join;  // line 1: the future being awaited,
                                        // which owns both events
};
struct Finished {};

class JoinTwoFuture {
 public:
  using Output = std::uint32_t;

  Poll<std::uint32_t> poll(Context& cx) {
    for (;;) {
      if (std::holds_alternative<NeverPolled>(state_)) {
        state_.emplace<Awaiting>(Awaiting{pollwake::join(event('a'), event('b'))});  // line 1
        trace("JoinTwoFuture: NeverPolled -> Awaiting");  // (4)
        continue;
      }
      if (auto* s = std::get_if<Awaiting>(&state_)) {
        auto p = s->join.poll(cx);  // line 1: polls each unfinished event
        if (p.is_pending()) {
          trace("JoinTwoFuture::poll -> Pending");  // (7), (14)
          return Pending;
        }
        auto [a, b] = std::move(p).value();          // line 1
        trace("body: a = %u, b = %u", a, b);         // (20) line 2
        state_ = Finished{};                         // line 3
        trace("JoinTwoFuture: Awaiting -> Finished");  // (21)
        return Ready(a + b);                         // line 3
      }
      pollwake::polled_after_completion("join_two");  // Finished
    }
  }

 private:
  std::variant<NeverPolled, Awaiting, Finished> state_;
};

JoinTwoFuture join_two() { return JoinTwoFuture{}; }
// [END join_two_future]

static_assert(pollwake::Future<JoinTwoFuture>);

// ---------------------------------------------------------------------------
// The task main polls; its waker prints each vtable call (trace.h).
PrintingTask g_task{"join_two"};

}  // namespace

int main() {
  Waker waker = g_task.waker();
  Context cx = Context::from_waker(waker);
  trace("main: sizeof(JoinTwoFuture) = %zu bytes", sizeof(JoinTwoFuture));  // (1)

  // [START drive_join]
  JoinTwoFuture fut = join_two();
  trace("main: join_two() returned; nothing has run");  // (2)
  const char fire_order[] = {'b', 'a'};  // the outside world's schedule
  for (int n = 1;; ++n) {
    trace("main: poll #%d", n);  // (3), (10), (17)
    Poll<std::uint32_t> p = fut.poll(cx);
    if (p.is_ready()) {
      trace("main: Ready(%u)", p.value());  // (22)
      break;
    }
    if (n > 2) {  // both events fired and still Pending: a lost wakeup
      trace("main: still Pending after both events fired; giving up");
      return 1;
    }
    char name = fire_order[n - 1];
    trace("main: Pending; the outside world fires event %c", name);  // (8), (15)
    g_task.take_woken();  // clears the flag: only fire() may raise it
    fire(name, name == 'a' ? 1 : 2);
    trace("main: woken: %s", g_task.take_woken() ? "yes" : "no");  // (9), (16)
  }
  // [END drive_join]

  trace("main: end; main's own waker is dropped");  // (23)
  return 0;
}
