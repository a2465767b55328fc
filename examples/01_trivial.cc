// examples/01_trivial.cc: what the compiler makes of a trivial `async fn`.
//
//   bash .ci/tour.sh 01        (or: bazel run //examples:01_trivial)
//
// The Rust program this example rewrites ("Trivial Async Fn"):
//
//   async fn trivial() -> u32 {
//       println!("Hello!");         // line 1
//       let e = event();            // line 2
//       let value = e.await;        // line 3
//       println!("Got: {}", value); // line 4
//       return value * 2;           // line 5
//   }
//
// Below, trivial() is written the way rustc rewrites it: a function that runs
// nothing and returns a state machine, and a poll() that runs the body from
// one await point to the next. There is no executor yet: main() polls the
// future by hand, fires the event, and polls again. The waker is built from a
// RawWaker and a static table of four functions, as the Rust original does, and it
// prints each call, so you can watch the vtable contract at work.
//
// Each trace line is numbered; `// (n)` marks the statement that prints [n].
// Indented `waker:` lines are the waker's own vtable functions speaking.
// examples/01_trivial.expected holds the output, and a test compares it.

#include <cstdint>
#include <cstdio>
#include <optional>
#include <utility>
#include <variant>

#include "poll/context.h"
#include "poll/future.h"
#include "poll/poll.h"
#include "poll/raw_waker.h"
#include "poll/waker.h"

using pollwake::Context;
using pollwake::FuturePolledAfterCompletion;
using pollwake::Pending;
using pollwake::Poll;
using pollwake::RawWaker;
using pollwake::RawWakerVTable;
using pollwake::Ready;
using pollwake::Waker;

namespace {

int g_step = 0;
// trace: prints one numbered line, "[n] text".
void trace(const char* text) { std::printf("[%d] %s\n", ++g_step, text); }

// ---------------------------------------------------------------------------
// The event: something outside the future that completes later (a timer, a
// socket, another thread). The Rust original only declares it:
//   fn event() -> EventFuture { ... }
//   impl Future for EventFuture { type Output = u32; ... }
// Here the "outside world" is main(), which calls fire_event().

struct EventSlot {
  std::optional<std::uint32_t> value;  // set by fire_event()
  std::optional<Waker> waker;          // the waker of the latest poll
};
EventSlot g_event;

// [START event_future]
class EventFuture {
 public:
  using Output = std::uint32_t;
  EventFuture() = default;
  // A C++ move leaves the source alive; the source is disarmed, so only the
  // last owner says "drop" (a Rust move forgets its source).
  EventFuture(EventFuture&& other) noexcept : armed_(std::exchange(other.armed_, false)) {}
  EventFuture& operator=(EventFuture&&) = delete;
  // Rust: `impl Drop for EventFuture` that prints, so the trace shows when
  // the machine lets go of the awaited future.
  ~EventFuture() {
    if (armed_) trace("drop EventFuture");  // (13)
  }

  Poll<std::uint32_t> poll(Context& cx) {
    if (g_event.value) {
      trace("EventFuture::poll -> Ready (the event has fired)");  // (12)
      return Ready(*g_event.value);
    }
    // Pending obliges us to wake the waker of *this* poll later: keep a clone
    // (clone_from skips the clone when the stored waker is already the same).
    // Written out on purpose, to show the idiom; other code uses LatestWaker
    // (poll/latest_waker.h), which packages it.
    if (g_event.waker) {
      g_event.waker->clone_from(cx.waker());
    } else {
      g_event.waker.emplace(cx.waker());  // the vtable's clone runs
    }
    trace("EventFuture::poll -> Pending (waker stored)");  // (6)
    return Pending;
  }

 private:
  bool armed_ = true;
};
// [END event_future]

EventFuture event() { return EventFuture{}; }

// fire_event: the outside world completes the event and wakes the task. The
// stored waker is consumed by wake() (no drop afterwards).
void fire_event(std::uint32_t value) {
  g_event.value = value;
  if (g_event.waker) {
    Waker w = std::move(*g_event.waker);
    g_event.waker.reset();
    std::move(w).wake();  // the vtable's wake runs; no drop follows
  }
}

// ---------------------------------------------------------------------------
// The rewrite. One state per await point, plus "never polled" and
// "finished". Locals that live across an await (here only `e`) become fields
// of the state that holds them.

// [START trivial_future]
struct NeverPolled {};
struct WaitingForE {
  // For emplace below: clang 14 lacks C++20's parenthesized aggregate initialization.
  explicit WaitingForE(EventFuture&& moved_in) : e(std::move(moved_in)) {}
  // `e` lives across the await on line 3. Optional because rustc drops the
  // awaited future the moment its .await completes, before line 4 runs,
  // while the state stays WaitingForE until the function returns.
  std::optional<EventFuture> e;
};
// rustc's machine has no such field: it holds no PhantomPinned, the compiler
// simply never implements Unpin for it. C++ has no Unpin; the rule "never
// moved once polled" is the poller's (see poll/future.h).
struct Finished {};

class TrivialFuture {
 public:
  using Output = std::uint32_t;

  Poll<std::uint32_t> poll(Context& cx) {
    for (;;) {  // the Rust rewrite's `loop { match _self { ... } }`
      if (std::holds_alternative<NeverPolled>(state_)) {
        trace("TrivialFuture::poll: NeverPolled, runs lines 1-2");  // (3)
        std::printf("Hello!\n");                                     // line 1
        EventFuture e = event();                                     // line 2
        state_.emplace<WaitingForE>(std::move(e));                   // line 3 (moves e in)
        trace("TrivialFuture: state -> WaitingForE");                // (4)
        continue;  // straight on to WaitingForE, as the Rust rewrite's loop does
      }
      if (auto* waiting = std::get_if<WaitingForE>(&state_)) {
        trace("TrivialFuture::poll: WaitingForE, line 3 polls e");  // (5), (11)
        Poll<std::uint32_t> p = waiting->e->poll(cx);                // line 3
        if (p.is_pending()) {
          trace("TrivialFuture::poll -> Pending");  // (7)
          return Pending;                           //   waiting
        }
        std::uint32_t value = p.value();              //   done!
        waiting->e.reset();                           //   and `e` is dropped now
        std::printf("Got: %u\n", value);              // line 4
        state_ = Finished{};                          // line 5
        trace("TrivialFuture: state -> Finished");    // (14)
        return Ready(value * 2);                      // line 5
      }
      // Finished: Rust panics ("`async fn` resumed after completion"); every
      // pollwake future throws FuturePolledAfterCompletion instead.
      pollwake::polled_after_completion("trivial");
    }
  }

 private:
  std::variant<NeverPolled, WaitingForE, Finished> state_;
};

// `async fn trivial() -> u32` becomes a plain function that runs nothing.
TrivialFuture trivial() { return TrivialFuture{}; }
// [END trivial_future]

static_assert(pollwake::Future<EventFuture>);
static_assert(pollwake::Future<TrivialFuture>);

// ---------------------------------------------------------------------------
// A waker made by hand, as in the Rust original: a RawWaker (a data pointer and a
// static table of four functions). It wakes nothing; it says what happens.
// A real executor's wake would put the task back on its run queue.

// [START printing_waker]
const char kTaskName[] = "trivial";

const RawWakerVTable kPrintingVTable = {
    /*clone=*/[](const void* data) -> RawWaker {
      std::printf("    waker: clone (task %s)\n", static_cast<const char*>(data));
      return RawWaker{data, &kPrintingVTable};
    },
    /*wake=*/[](const void* data) {
      std::printf("    waker: wake, consumes the waker (task %s)\n", static_cast<const char*>(data));
    },
    /*wake_by_ref=*/[](const void* data) {
      std::printf("    waker: wake_by_ref (task %s)\n", static_cast<const char*>(data));
    },
    /*drop=*/[](const void* data) {
      std::printf("    waker: drop (task %s)\n", static_cast<const char*>(data));
    },
};
// [END printing_waker]

}  // namespace

int main() {
  Waker waker = Waker::from_raw(RawWaker{kTaskName, &kPrintingVTable});

  // [START drive_by_hand]
  TrivialFuture fut = trivial();
  trace("main: trivial() returned; nothing has run, nothing printed");  // (1)

  Context cx = Context::from_waker(waker);
  trace("main: first poll");  // (2)
  Poll<std::uint32_t> p = fut.poll(cx);
  trace(p.is_pending() ? "main: Pending, so main fires the event with 21"  // (8)
                       : "main: unexpected Ready");

  trace("main: fire_event(21) wakes the stored waker");  // (9)
  fire_event(21);

  trace("main: woken, so main polls again");  // (10)
  p = fut.poll(cx);
  std::printf("[%d] main: Ready(%u)\n", ++g_step, p.value());  // (15)
  // [END drive_by_hand]

  trace("main: polling a finished future is a bug; pollwake throws");  // (16)
  try {
    (void)fut.poll(cx);
  } catch (const FuturePolledAfterCompletion& e) {
    std::printf("[%d] main: caught: %s\n", ++g_step, e.what());  // (17)
  }
  trace("main: end; main's own waker is dropped");  // (18)
  return 0;
}
