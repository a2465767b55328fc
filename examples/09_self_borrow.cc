// examples/09_self_borrow.cc: a future that borrows from itself across an
// await, and why it must not move once polled (Rust's `Pin`).
//
//   bash .ci/tour.sh 09        (or: bazel run //examples:09_self_borrow)
//
// The Rust program this example rewrites (compiled and run, with the size of
// its future printed, by tests/oracles/rust/src/bin/ex09_self_borrow.rs):
//
//   async fn self_borrow() -> u32 {
//       let data = [1u8, 2, 3, 4];                     // line 1
//       let view: &[u8] = &data[1..];                  // line 2: borrows `data`
//       yield_now().await;                             // line 3
//       view.iter().map(|&x| x as u32).sum()           // line 4: 2 + 3 + 4
//   }
//
// `data` and `view` both live across the await on line 3, so both become
// fields of the state that waits there. `view` points at `data`, so the state
// points into itself. If the future moved after the first poll, `data` would
// move with it but `view` would still point at the old place: a dangling
// reference, read on line 4. Rust prevents this with Pin: poll takes
// `Pin<&mut Self>`, and a future that is not `Unpin` (rustc's futures are
// not) cannot be moved out of its pin. pollwake's rule is the same, and for
// this future the compiler enforces it: SelfBorrowFuture deletes its copy
// and move constructors, so `auto moved = std::move(fut);` does not compile.
//
// How C++ differs: Rust lets a future move freely until it is pinned (before
// its first poll); C++ cannot tell a polled object from an unpolled one at
// compile time, so the deleted move is stricter: the future is built where it
// will live. C++17's guaranteed copy elision lets self_borrow() return it by
// value anyway, and `new SelfBorrowFuture(self_borrow())` builds it on the
// heap, which is Rust's `Box::pin`: moving the box moves the pointer only.
//
// Each trace line is numbered; `// (n)` marks the statement that prints [n].
// Lines that start with `SelfBorrowFuture` are the rewrite speaking.

#include <array>
#include <cstdint>
#include <memory>
#include <numeric>
#include <span>
#include <type_traits>
#include <utility>
#include <variant>

#include "examples/trace.h"
#include "poll/context.h"
#include "poll/future.h"
#include "poll/poll.h"
#include "poll/waker.h"
#include "poll/yield_now.h"

using pollwake::Context;
using pollwake::examples::PrintingTask;
using pollwake::examples::trace;
using pollwake::Pending;
using pollwake::Poll;
using pollwake::Ready;
using pollwake::Waker;
using pollwake::YieldNow;

namespace {

// ---------------------------------------------------------------------------
// The rewrite.

// [START self_borrow_future]
struct NeverPolled {};
struct Awaiting {                    // suspended at line 3, `yield_now().await`
  std::array<std::uint8_t, 4> data;  // line 1: lives across the await
  std::span<const std::uint8_t> view;  // line 2: points into `data`, so into
                                       // the future itself
  YieldNow yield;                    // line 3: the future being awaited
};
struct Finished {};

class SelfBorrowFuture {
 public:
  using Output = std::uint32_t;
  SelfBorrowFuture() = default;
  // Rust: the future is !Unpin (rustc holds no PhantomPinned for it; the
  // compiler simply never implements Unpin for its futures). Once polled,
  // `Awaiting::view` points into *this; a copy or a move would leave it
  // pointing at the old object. Deleted, so the mistake does not compile.
  SelfBorrowFuture(const SelfBorrowFuture&) = delete;
  SelfBorrowFuture& operator=(const SelfBorrowFuture&) = delete;

  Poll<std::uint32_t> poll(Context& cx) {
    for (;;) {
      if (std::holds_alternative<NeverPolled>(state_)) {
        // The state is put in place first, then the borrow is taken from
        // the data at its final address: inside this future.
        Awaiting& s = state_.emplace<Awaiting>();
        s.data = {1, 2, 3, 4};                             // line 1
        s.view = std::span<const std::uint8_t>(s.data).subspan(1);  // line 2
        trace("SelfBorrowFuture: NeverPolled -> Awaiting, view = &data[1..]");  // (4), (19)
        continue;
      }
      if (auto* s = std::get_if<Awaiting>(&state_)) {
        if (s->yield.poll(cx).is_pending()) {               // line 3
          trace("SelfBorrowFuture::poll -> Pending; view points into this future: %s",  // (5), (20)
                view_points_into_self() ? "yes" : "no");
          return Pending;
        }
        std::uint32_t sum = std::accumulate(s->view.begin(), s->view.end(), 0u);  // line 4
        trace("SelfBorrowFuture: Awaiting -> Finished, sum of view = %u", sum);  // (10), (23)
        state_ = Finished{};                                // line 4
        return Ready(sum);                                  // line 4
      }
      pollwake::polled_after_completion("self_borrow");     // Finished
    }
  }

  // For the trace: whether `view` points at this future's own `data`.
  bool view_points_into_self() const {
    const auto* s = std::get_if<Awaiting>(&state_);
    return s != nullptr && s->view.data() == s->data.data() + 1;
  }

 private:
  std::variant<NeverPolled, Awaiting, Finished> state_;
};

// Guaranteed copy elision: the prvalue initializes the caller's object
// directly, so no move constructor is needed (or called).
SelfBorrowFuture self_borrow() { return SelfBorrowFuture(); }
// [END self_borrow_future]

static_assert(pollwake::Future<SelfBorrowFuture>);
// [START not_movable]
static_assert(!std::is_move_constructible_v<SelfBorrowFuture>,
              "a future that borrows from itself must not move (Rust: !Unpin)");
static_assert(!std::is_copy_constructible_v<SelfBorrowFuture>);
// [END not_movable]

// ---------------------------------------------------------------------------
// The task main polls; its waker prints each vtable call (trace.h).
PrintingTask g_task{"self_borrow"};

// poll_once: one poll, traced.
Poll<std::uint32_t> poll_once(SelfBorrowFuture& fut, Context& cx, int n) {
  trace("main: poll #%d", n);  // (3), (9), (18), (22)
  g_task.take_woken();  // clears the flag: only this poll may raise it
  return fut.poll(cx);
}

}  // namespace

int main() {
  Waker waker = g_task.waker();
  Context cx = Context::from_waker(waker);
  trace("main: sizeof(SelfBorrowFuture) = %zu bytes", sizeof(SelfBorrowFuture));  // (1)

  // 1. On the stack, built in place, polled where it is.
  // [START in_place]
  SelfBorrowFuture fut = self_borrow();  // elided: no move
  trace("main: self_borrow() built in place; nothing has run");  // (2)
  Poll<std::uint32_t> p = poll_once(fut, cx, 1);
  trace("main: %s, woken: %s", p.is_pending() ? "Pending" : "Ready",  // (6)
        g_task.take_woken() ? "yes" : "no");
  // SelfBorrowFuture moved = std::move(fut);  // does not compile: deleted
  trace("main: `auto moved = std::move(fut);` would not compile: moves are deleted");  // (7)
  trace("main: so fut is polled again where it is");  // (8)
  p = poll_once(fut, cx, 2);
  trace("main: Ready(%u)", p.value());  // (11)
  // [END in_place]

  // 2. What the deleted move prevents, shown on the state alone (an ordinary
  // struct that may move): `view` keeps pointing at the old `data`. Nothing
  // reads through it here; after `a` is gone, reading would be undefined.
  // [START what_a_move_does]
  Awaiting a;
  a.data = {1, 2, 3, 4};
  a.view = std::span<const std::uint8_t>(a.data).subspan(1);
  trace("main: an Awaiting state `a` on its own, a.view = &a.data[1..]");  // (12)
  Awaiting b = std::move(a);  // copies data, and copies the pointer in view
  trace("main: after `Awaiting b = std::move(a)`:");  // (13)
  trace("main:   b.view points into b.data: %s",  // (14)
        b.view.data() == b.data.data() + 1 ? "yes" : "no");
  trace("main:   b.view points into a.data: %s",  // (15)
        b.view.data() == a.data.data() + 1 ? "yes" : "no");
  trace("main: once `a` dies, b.view dangles; Pin forbids this move");  // (16)
  // [END what_a_move_does]

  // 3. On the heap (Rust's Box::pin): the box moves, the future does not.
  // [START boxed]
  std::unique_ptr<SelfBorrowFuture> boxed(new SelfBorrowFuture(self_borrow()));
  trace("main: boxed: built on the heap, in place");  // (17)
  (void)poll_once(*boxed, cx, 1);
  std::unique_ptr<SelfBorrowFuture> moved_box = std::move(boxed);  // the pointer moves
  trace("main: the box moved; the future did not: view points into it: %s",  // (21)
        moved_box->view_points_into_self() ? "yes" : "no");
  p = poll_once(*moved_box, cx, 2);
  trace("main: Ready(%u)", p.value());  // (24)
  // [END boxed]

  trace("main: end; main's own waker is dropped");  // (25)
  return 0;
}
