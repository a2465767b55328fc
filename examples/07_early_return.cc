// examples/07_early_return.cc: `?` inside an `async fn`: an early return that
// ends the state machine at an await point, and a drop that cancels it.
//
//   bash .ci/tour.sh 07        (or: bazel run //examples:07_early_return)
//
// The Rust program this example rewrites (its twin, run by the Rust oracle
// test, is tests/oracles/rust/src/bin/ex07_early_return.rs):
//
//   // fetch(key): Pending once (it wakes its own waker first), then
//   // Ready(Ok(key * 10)), or Ready(Err(NotFound(key))) for key 0.
//   // Guard: prints when it is dropped.
//   async fn early_return(first: u32, second: u32) -> Result<u32, FetchError> {
//       let _guard = Guard::new(first, second);  // line 1
//       let a = fetch(first).await?;             // line 2
//       trace!("body: a = {}", a);               // line 3
//       let b = fetch(second).await?;            // line 4
//       trace!("body: b = {}", b);               // line 5
//       Ok(a + b)                                // line 6
//   }
//
// What is new since 05:
//   * The arguments are part of the future: early_return(4, 0) runs nothing,
//     it stores `first` and `second` in the first state, NeverPolled.
//   * `?` after an await is an ordinary early return: when the awaited
//     future is Ready(Err(e)), poll() goes straight to Finished and returns
//     Ready(Err(e)); the rest of the body (lines 3-6, or 5-6) never runs.
//   * Finished is also where the locals die: `_guard` lives across both
//     awaits (so both waiting states hold it), and it is dropped when the
//     machine leaves its last waiting state, whichever way it leaves.
//   * The awaited future dies first: rustc drops `fetch(..)` the moment its
//     .await completes, before `?` looks at the result; the machine resets
//     it at that point, so the trace shows `drop fetch(n)` before the rest.
//   * A panic poisons it: when an exception escapes a poll (fetch(13) throws,
//     as a Rust panic unwinds), the machine destroys the current state's
//     locals and becomes Poisoned; polling it again throws
//     FuturePolledAfterPanic, as rustc's future panics with "`async fn`
//     resumed after panicking".
//   * Dropping the future cancels it: a future dropped while it waits at an
//     await destroys the fields of that state, so `_guard` is dropped there.
//
// main() runs three futures with a hand-written executor loop: one that
// succeeds, one whose second fetch fails, and one it drops after one poll.
//
// Each trace line is numbered; `// (n)` marks the statement that prints [n].
// Lines that start with `EarlyReturnFuture` are the rewrite speaking; rustc's
// machine is silent, so the Rust oracle drops those lines before comparing.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

#include "examples/trace.h"
#include "poll/context.h"
#include "poll/future.h"
#include "poll/poll.h"
#include "poll/result.h"
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
using pollwake::Waker;

namespace {

// Rust: `#[derive(Debug)] enum FetchError { NotFound(u32) }`.
struct FetchError {
  std::uint32_t not_found;
};
using FetchResult = Result<std::uint32_t, FetchError>;

// Rust's `{:?}` of a Result<u32, FetchError>.
std::string debug(const FetchResult& r) {
  return r.is_ok() ? "Ok(" + std::to_string(r.value()) + ")"
                   : "Err(NotFound(" + std::to_string(r.error().not_found) + "))";
}

// ---------------------------------------------------------------------------
// The leaf future: Rust's `fn fetch(key: u32) -> Fetch`.

// Pending once (after waking its own waker), then Ok(key * 10), or
// Err(NotFound(key)) for key 0; for key 13 its second poll throws (Rust: panics).
class Fetch {
 public:
  using Output = FetchResult;
  explicit Fetch(std::uint32_t key) : key_(key) {}
  // A C++ move leaves the source alive; the source is disarmed, so only the
  // last owner says "drop" (a Rust move forgets its source).
  Fetch(Fetch&& other) noexcept
      : key_(other.key_), yielded_(other.yielded_), armed_(std::exchange(other.armed_, false)) {}
  Fetch& operator=(Fetch&&) = delete;
  // Rust: `impl Drop for Fetch` that prints: the trace shows that the machine
  // drops each fetch as soon as its await completes, before `?` looks at it.
  ~Fetch() {
    if (armed_) trace("drop fetch(%u)", key_);  // (10), (18), (31), (39), (50), (60)
  }

  Poll<FetchResult> poll(Context& cx) {
    if (!yielded_) {
      yielded_ = true;
      cx.waker().wake_by_ref();
      trace("fetch(%u)::poll -> Pending (woke its own waker)", key_);  // (5), (13), (26), (34), (46), (55)
      return Pending;
    }
    if (key_ == 13) {
      trace("fetch(13)::poll panics");  // (59)
      throw std::runtime_error("fetch(13): connection lost");
    }
    FetchResult r = key_ == 0 ? FetchResult(Err(FetchError{key_})) : FetchResult(Ok(key_ * 10));
    trace("fetch(%u)::poll -> Ready(%s)", key_, debug(r).c_str());  // (9), (17), (30), (38)
    return Ready(std::move(r));
  }

 private:
  std::uint32_t key_;
  bool yielded_ = false;
  bool armed_ = true;
};

Fetch fetch(std::uint32_t key) { return Fetch(key); }

// Guard: Rust's `struct Guard; impl Drop for Guard` that prints. A C++ move
// leaves the source alive, so the source is disarmed: only the last owner
// prints. (rustc never moves a local between states, see below.)
class Guard {
 public:
  Guard(std::uint32_t first, std::uint32_t second) : first_(first), second_(second) {}
  Guard(Guard&& other) noexcept
      : first_(other.first_), second_(other.second_), armed_(std::exchange(other.armed_, false)) {}
  Guard& operator=(Guard&&) = delete;
  ~Guard() {
    if (armed_) trace("drop _guard of early_return(%u, %u)", first_, second_);  // (21), (41), (51), (61)
  }

 private:
  std::uint32_t first_, second_;
  bool armed_ = true;
};

// ---------------------------------------------------------------------------
// The rewrite. Each waiting state holds the locals alive at its await.
// Members are destroyed in reverse order, so the awaited future goes first
// and `guard` last, as Rust drops the innermost temporary first.

// [START early_return_future]
// [START early_return_states]
struct NeverPolled {   // the arguments, stored by the call
  std::uint32_t first;
  std::uint32_t second;
};
struct AwaitingA {     // suspended at line 2, `fetch(first).await`
  std::uint32_t second;  // an argument still needed after this await
  Guard guard;           // line 1: `_guard` lives across both awaits
  // line 2: the future being awaited; optional because rustc drops it the
  // moment its .await completes, before `?` runs
  std::optional<Fetch> fetch;
};
struct AwaitingB {     // suspended at line 4, `fetch(second).await`
  Guard guard;           // line 1
  std::uint32_t a;       // line 2: `a` is used on line 6, after this await
  std::optional<Fetch> fetch;  // line 4
};
struct Finished {};
// rustc's third end state: an exception (Rust: a panic) escaped a poll. The
// locals of the state it was in are destroyed on the way out; polling again
// throws FuturePolledAfterPanic (Rust: "`async fn` resumed after panicking").
struct Poisoned {};
// [END early_return_states]

class EarlyReturnFuture {
 public:
  using Output = FetchResult;
  EarlyReturnFuture(std::uint32_t first, std::uint32_t second)
      : state_(NeverPolled{first, second}) {}

  // [START poisoned]
  Poll<FetchResult> poll(Context& cx) {
    if (std::holds_alternative<Finished>(state_)) pollwake::polled_after_completion("early_return");
    if (std::holds_alternative<Poisoned>(state_)) pollwake::polled_after_panic("early_return");
    try {
      return resume(cx);
    } catch (...) {
      state_.emplace<Poisoned>();  // destroys the current state's locals first
      trace("EarlyReturnFuture: exception escaped -> Poisoned");  // (62)
      throw;
    }
  }
  // [END poisoned]

 private:
  // The body between two await points (rustc's generator resume).
  Poll<FetchResult> resume(Context& cx) {
    for (;;) {
      if (auto* s = std::get_if<NeverPolled>(&state_)) {
        // line 1 makes the guard, line 2 starts fetch(first); the next state
        // is built from the old one before the old one dies in emplace
        AwaitingA next{s->second, Guard(s->first, s->second), fetch(s->first)};
        state_.emplace<AwaitingA>(std::move(next));
        trace("EarlyReturnFuture: NeverPolled -> AwaitingA");  // (4), (25), (45), (54)
        continue;
      }
      if (auto* s = std::get_if<AwaitingA>(&state_)) {
        Poll<FetchResult> p = s->fetch->poll(cx);  // line 2
        if (p.is_pending()) {
          trace("EarlyReturnFuture::poll -> Pending at line 2");  // (6), (27), (47), (56)
          return Pending;
        }
        FetchResult r = std::move(p).value();
        s->fetch.reset();                            // line 2: the await is over
        if (r.is_err()) {                            // line 2: `?` returns early
          state_ = Finished{};                       //   drops _guard
          return Ready(FetchResult(Err(std::move(r).error())));
        }
        std::uint32_t a = r.value();                 // line 2
        trace("body: a = %u", a);                    // (11), (32) line 3
        AwaitingB next{std::move(s->guard), a, fetch(s->second)};  // line 4
        state_.emplace<AwaitingB>(std::move(next));
        trace("EarlyReturnFuture: AwaitingA -> AwaitingB");  // (12), (33)
        continue;
      }
      // [START question_mark]
      if (auto* s = std::get_if<AwaitingB>(&state_)) {
        Poll<FetchResult> p = s->fetch->poll(cx);  // line 4
        if (p.is_pending()) {
          trace("EarlyReturnFuture::poll -> Pending at line 4");  // (14), (35)
          return Pending;
        }
        FetchResult r = std::move(p).value();
        s->fetch.reset();                            // line 4: the await is over
        if (r.is_err()) {                            // line 4: `?` returns early
          trace("EarlyReturnFuture: `?` at line 4 -> Finished");  // (40)
          state_ = Finished{};                       //   drops _guard
          return Ready(FetchResult(Err(std::move(r).error())));
        }
        std::uint32_t b = r.value();                 // line 4
        trace("body: b = %u", b);                    // (19) line 5
        std::uint32_t sum = s->a + b;                // line 6
        trace("EarlyReturnFuture: AwaitingB -> Finished");  // (20)
        state_ = Finished{};                         // line 6: drops _guard
        return Ready(FetchResult(Ok(sum)));          // line 6
      }
      // [END question_mark]
      pollwake::polled_after_completion("early_return");  // not reached: poll() checked
    }
  }

  std::variant<NeverPolled, AwaitingA, AwaitingB, Finished, Poisoned> state_;
};

EarlyReturnFuture early_return(std::uint32_t first, std::uint32_t second) {
  return EarlyReturnFuture(first, second);
}
// [END early_return_future]

static_assert(pollwake::Future<EarlyReturnFuture>);

// ---------------------------------------------------------------------------
// The task main polls; its waker prints each vtable call (trace.h).
PrintingTask g_task{"early_return"};

// drive: polls `fut` until it is Ready, or until `max_polls` polls answered
// Pending; polls again only when the waker was woken.
std::optional<FetchResult> drive(EarlyReturnFuture& fut, Context& cx, int max_polls) {
  for (int n = 1; n <= max_polls; ++n) {
    trace("main: poll #%d", n);  // (3), (8), (16), (24), (29), (37), (44), (53), (58)
    Poll<FetchResult> p = fut.poll(cx);
    if (p.is_ready()) return std::move(p).value();
    if (!g_task.take_woken()) return std::nullopt;  // nobody would wake it again
    trace("main: Pending, but woken");  // (7), (15), (28), (36), (48), (57)
  }
  return std::nullopt;
}

}  // namespace

int main() {
  Waker waker = g_task.waker();
  Context cx = Context::from_waker(waker);
  trace("main: sizeof(EarlyReturnFuture) = %zu bytes", sizeof(EarlyReturnFuture));  // (1)

  {
    EarlyReturnFuture ok = early_return(1, 2);
    trace("main: early_return(1, 2) made; nothing has run");  // (2)
    std::optional<FetchResult> r = drive(ok, cx, 10);
    trace("main: early_return(1, 2) = %s", r ? debug(*r).c_str() : "none");  // (22)
  }
  {
    EarlyReturnFuture err = early_return(4, 0);
    trace("main: early_return(4, 0) made; fetch(0) will fail");  // (23)
    std::optional<FetchResult> r = drive(err, cx, 10);
    trace("main: early_return(4, 0) = %s (line 5 never ran)", r ? debug(*r).c_str() : "none");  // (42)
  }
  {
    EarlyReturnFuture dropped = early_return(7, 8);
    trace("main: early_return(7, 8) made");  // (43)
    std::optional<FetchResult> r = drive(dropped, cx, 1);
    trace("main: after 1 poll it is %s; main drops it", r ? "ready" : "pending");  // (49)
  }
  {
    EarlyReturnFuture broken = early_return(13, 1);
    trace("main: early_return(13, 1) made; fetch(13) will panic");  // (52)
    try {
      (void)drive(broken, cx, 10);
    } catch (const std::runtime_error& e) {
      trace("main: caught: %s", e.what());  // (63)
    }
    trace("main: polls the poisoned future once more");  // (64)
    try {
      (void)broken.poll(cx);
    } catch (const pollwake::FuturePolledAfterPanic& e) {
      trace("main: caught: %s", e.what());  // (65)
    }
  }
  trace("main: end; main's own waker is dropped");  // (66)
  return 0;
}
