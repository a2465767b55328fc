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

class Fetch {
 public:
  using Output = FetchResult;
  explicit Fetch(std::uint32_t key) : key_(key) {}

  Poll<FetchResult> poll(Context& cx) {
    if (!yielded_) {
      yielded_ = true;
      cx.waker().wake_by_ref();
      trace("fetch(%u)::poll -> Pending (woke its own waker)", key_);  // (5), (12), (24), (31), (42)
      return Pending;
    }
    FetchResult r = key_ == 0 ? FetchResult(Err(FetchError{key_})) : FetchResult(Ok(key_ * 10));
    trace("fetch(%u)::poll -> Ready(%s)", key_, debug(r).c_str());  // (9), (16), (28), (35)
    return Ready(std::move(r));
  }

 private:
  std::uint32_t key_;
  bool yielded_ = false;
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
    if (armed_) trace("drop _guard of early_return(%u, %u)", first_, second_);  // (19), (37), (46)
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
  Fetch fetch;           // line 2: the future being awaited
};
struct AwaitingB {     // suspended at line 4, `fetch(second).await`
  Guard guard;           // line 1
  std::uint32_t a;       // line 2: `a` is used on line 6, after this await
  Fetch fetch;           // line 4
};
struct Finished {};
// [END early_return_states]

class EarlyReturnFuture {
 public:
  using Output = FetchResult;
  EarlyReturnFuture(std::uint32_t first, std::uint32_t second)
      : state_(NeverPolled{first, second}) {}

  Poll<FetchResult> poll(Context& cx) {
    for (;;) {
      if (auto* s = std::get_if<NeverPolled>(&state_)) {
        // line 1 makes the guard, line 2 starts fetch(first); the next state
        // is built from the old one before the old one dies in emplace
        AwaitingA next{s->second, Guard(s->first, s->second), fetch(s->first)};
        state_.emplace<AwaitingA>(std::move(next));
        trace("EarlyReturnFuture: NeverPolled -> AwaitingA");  // (4), (23), (41)
        continue;
      }
      if (auto* s = std::get_if<AwaitingA>(&state_)) {
        Poll<FetchResult> p = s->fetch.poll(cx);  // line 2
        if (p.is_pending()) {
          trace("EarlyReturnFuture::poll -> Pending at line 2");  // (6), (25), (43)
          return Pending;
        }
        FetchResult r = std::move(p).value();
        if (r.is_err()) {                            // line 2: `?` returns early
          state_ = Finished{};                       //   drops _guard
          return Ready(FetchResult(Err(std::move(r).error())));
        }
        std::uint32_t a = r.value();                 // line 2
        trace("body: a = %u", a);                    // (10), (29) line 3
        AwaitingB next{std::move(s->guard), a, fetch(s->second)};  // line 4
        state_.emplace<AwaitingB>(std::move(next));
        trace("EarlyReturnFuture: AwaitingA -> AwaitingB");  // (11), (30)
        continue;
      }
      // [START question_mark]
      if (auto* s = std::get_if<AwaitingB>(&state_)) {
        Poll<FetchResult> p = s->fetch.poll(cx);  // line 4
        if (p.is_pending()) {
          trace("EarlyReturnFuture::poll -> Pending at line 4");  // (13), (32)
          return Pending;
        }
        FetchResult r = std::move(p).value();
        if (r.is_err()) {                            // line 4: `?` returns early
          trace("EarlyReturnFuture: `?` at line 4 -> Finished");  // (36)
          state_ = Finished{};                       //   drops _guard
          return Ready(FetchResult(Err(std::move(r).error())));
        }
        std::uint32_t b = r.value();                 // line 4
        trace("body: b = %u", b);                    // (17) line 5
        std::uint32_t sum = s->a + b;                // line 6
        trace("EarlyReturnFuture: AwaitingB -> Finished");  // (18)
        state_ = Finished{};                         // line 6: drops _guard
        return Ready(FetchResult(Ok(sum)));          // line 6
      }
      // [END question_mark]
      pollwake::polled_after_completion("early_return");  // Finished
    }
  }

 private:
  std::variant<NeverPolled, AwaitingA, AwaitingB, Finished> state_;
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
    trace("main: poll #%d", n);  // (3), (8), (15), (22), (27), (34), (40)
    Poll<FetchResult> p = fut.poll(cx);
    if (p.is_ready()) return std::move(p).value();
    if (!g_task.take_woken()) return std::nullopt;  // nobody would wake it again
    trace("main: Pending, but woken");  // (7), (14), (26), (33), (44)
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
    trace("main: early_return(1, 2) = %s", r ? debug(*r).c_str() : "none");  // (20)
  }
  {
    EarlyReturnFuture err = early_return(4, 0);
    trace("main: early_return(4, 0) made; fetch(0) will fail");  // (21)
    std::optional<FetchResult> r = drive(err, cx, 10);
    trace("main: early_return(4, 0) = %s (line 5 never ran)", r ? debug(*r).c_str() : "none");  // (38)
  }
  {
    EarlyReturnFuture dropped = early_return(7, 8);
    trace("main: early_return(7, 8) made");  // (39)
    std::optional<FetchResult> r = drive(dropped, cx, 1);
    trace("main: after 1 poll it is %s; main drops it", r ? "ready" : "pending");  // (45)
  }
  trace("main: end; main's own waker is dropped");  // (47)
  return 0;
}
