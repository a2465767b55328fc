// examples/05_loop_await.cc: an `async fn` that awaits on every turn of a loop.
//
//   bash .ci/tour.sh 05        (or: bazel run //examples:05_loop_await)
//
// The Rust program this example rewrites (its twin, run by the Rust oracle
// test, is tests/oracles/rust/src/bin/ex05_loop_await.rs):
//
//   // tick(n): Pending once (it wakes its own waker first), then Ready(n * 10).
//   async fn loop_await() -> u32 {
//       let mut total = 0;                                    // line 1
//       for i in 1..4 {                                       // line 2
//           let v = tick(i).await;                            // line 3
//           total += v;                                       // line 4
//           trace!("body: turn {}: got {}, total {}", i, v, total); // line 5
//       }
//       total                                                 // line 6
//   }
//
// What is new since 01: one await point, reached three times. The state
// machine still has one state per await point (not one per turn): the state
// `Awaiting` holds everything that lives across the await, which here is the
// running `total`, the loop's position `i` and the `tick` being awaited. `v`
// is born after the await and dies before the next one, so it stays a plain
// local of poll(). When a tick is ready, poll() does not return: it runs the
// rest of the turn, starts the next tick and polls it at once. It returns
// only at an await that answers Pending, or at the end.
//
// main() is a hand-written executor loop: poll, and if the answer is Pending
// and the waker was woken, poll again. The waker prints each vtable call.
//
// Each trace line is numbered; `// (n)` marks the statement that prints [n].
// Lines that start with `LoopAwaitFuture` are the rewrite speaking; rustc's
// machine is silent, so the Rust oracle drops those lines before comparing.

#include <cstdint>
#include <optional>
#include <utility>
#include <variant>

#include "examples/trace.h"
#include "poll/context.h"
#include "poll/future.h"
#include "poll/poll.h"
#include "poll/waker.h"

using pollwake::Context;
using pollwake::examples::PrintingTask;
using pollwake::examples::trace;
using pollwake::FuturePolledAfterCompletion;
using pollwake::Pending;
using pollwake::Poll;
using pollwake::Ready;
using pollwake::Waker;

namespace {

// ---------------------------------------------------------------------------
// The leaf future. Rust: `fn tick(n: u32) -> Tick`, a hand-written future
// that answers Pending once, after waking its own waker (as `yield_now` does),
// and Ready(n * 10) on the next poll.

// [START tick]
class Tick {
 public:
  using Output = std::uint32_t;
  explicit Tick(std::uint32_t n) : n_(n) {}
  // A C++ move leaves the source alive; the source is disarmed, so only the
  // last owner says "drop" (a Rust move forgets its source).
  Tick(Tick&& other) noexcept
      : n_(other.n_), yielded_(other.yielded_), armed_(std::exchange(other.armed_, false)) {}
  Tick& operator=(Tick&&) = delete;
  // Rust: `impl Drop for Tick` that prints: the trace shows that the machine
  // drops each tick as soon as its await completes, before line 4 runs.
  ~Tick() {
    if (armed_) trace("drop Tick(%u)", n_);  // (10), (18), (26)
  }

  Poll<std::uint32_t> poll(Context& cx) {
    if (!yielded_) {
      yielded_ = true;
      cx.waker().wake_by_ref();  // "poll me again": the executor will
      trace("Tick(%u)::poll -> Pending (woke its own waker)", n_);  // (5), (13), (21)
      return Pending;
    }
    trace("Tick(%u)::poll -> Ready(%u)", n_, n_ * 10);  // (9), (17), (25)
    return Ready(n_ * 10);
  }

 private:
  std::uint32_t n_;
  bool yielded_ = false;
  bool armed_ = true;
};
// [END tick]

Tick tick(std::uint32_t n) { return Tick(n); }

// ---------------------------------------------------------------------------
// The rewrite.

// [START loop_await_future]
struct NeverPolled {};
struct Awaiting {       // suspended at line 3, `tick(i).await`
  std::uint32_t total;  // line 1: `total` lives across the await
  std::uint32_t i;      // line 2: the loop's iterator (`1..4`) lives across it
  // line 3: the future being awaited. Optional because rustc drops it the
  // moment its .await completes (before line 4), while the state stays.
  std::optional<Tick> tick;
};
struct Finished {};

class LoopAwaitFuture {
 public:
  using Output = std::uint32_t;

  Poll<std::uint32_t> poll(Context& cx) {
    for (;;) {
      if (std::holds_alternative<NeverPolled>(state_)) {
        std::uint32_t total = 0;                    // line 1
        std::uint32_t i = 1;                        // line 2: first turn
        state_.emplace<Awaiting>(Awaiting{total, i, tick(i)});  // line 3: start tick(1)
        trace("LoopAwaitFuture: NeverPolled -> Awaiting (turn 1)");  // (4)
        continue;  // and poll tick(1) right away
      }
      if (auto* s = std::get_if<Awaiting>(&state_)) {
        Poll<std::uint32_t> p = s->tick->poll(cx);  // line 3
        if (p.is_pending()) {
          trace("LoopAwaitFuture::poll -> Pending (turn %u)", s->i);  // (6), (14), (22)
          return Pending;
        }
        std::uint32_t v = p.value();  // line 3: `v` is a local, not a field
        s->tick.reset();              // line 3: the await is over, drop the tick
        s->total += v;                // line 4
        trace("body: turn %u: got %u, total %u", s->i, v, s->total);  // (11), (19), (27)
        if (++s->i < 4) {             // line 2: next turn of `for i in 1..4`
          s->tick.emplace(s->i);      // line 3: start the next tick, tick(i)
          trace("LoopAwaitFuture: Awaiting, turn %u", s->i);  // (12), (20)
          continue;                   // and poll it in this same poll()
        }
        std::uint32_t total = s->total;  // line 6 (s dies with the state)
        state_ = Finished{};             // line 6
        trace("LoopAwaitFuture: Awaiting -> Finished");  // (28)
        return Ready(total);             // line 6
      }
      pollwake::polled_after_completion("loop_await");  // Finished
    }
  }

 private:
  std::variant<NeverPolled, Awaiting, Finished> state_;
};

LoopAwaitFuture loop_await() { return LoopAwaitFuture{}; }
// [END loop_await_future]

static_assert(pollwake::Future<LoopAwaitFuture>);

// ---------------------------------------------------------------------------
// The task main polls; its waker prints each vtable call (trace.h).
PrintingTask g_task{"loop_await"};

}  // namespace

int main() {
  Waker waker = g_task.waker();

  // [START drive_loop]
  LoopAwaitFuture fut = loop_await();
  trace("main: loop_await() returned; nothing has run");  // (1)
  trace("main: sizeof(LoopAwaitFuture) = %zu bytes", sizeof(LoopAwaitFuture));  // (2)

  Context cx = Context::from_waker(waker);
  for (int n = 1;; ++n) {
    trace("main: poll #%d", n);  // (3), (8), (16), (24)
    Poll<std::uint32_t> p = fut.poll(cx);
    if (p.is_ready()) {
      trace("main: Ready(%u)", p.value());  // (29)
      break;
    }
    if (!g_task.take_woken()) {  // nobody will wake us: a real executor would sleep
      trace("main: Pending and not woken; giving up");
      return 1;
    }
    trace("main: Pending, but woken, so main polls again");  // (7), (15), (23)
  }
  // [END drive_loop]

  try {
    (void)fut.poll(cx);
  } catch (const FuturePolledAfterCompletion& e) {
    trace("main: poll #5 caught: %s", e.what());  // (30)
  }
  trace("main: end; main's own waker is dropped");  // (31)
  return 0;
}
