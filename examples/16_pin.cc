// examples/16_pin.cc: futures that must not move, and the four places where
// that matters: on the stack (Rust's pin!), on the heap (Box::pin), inside a
// wrapper (pin projection), and inside select (which needs Unpin).
//
//   bash .ci/tour.sh 16        (or: bazel run //examples:16_pin)
//
// The Rust this example rewrites (chapter docs/11_pin.md walks through it):
//
//   let mut a = pin!(waiter(&registry));        // part 1: pinned on the stack
//   poll(a.as_mut());                           //   registers its address
//   let b: Pin<Box<Waiter>> = Box::pin(waiter(&registry));  // part 2
//   let b2 = b;                                 //   moves the box, not the future
//   // select(waiter(..), ready(7))             // part 3: does not compile,
//   select(Box::pin(waiter(..)), ready(7))      //   Waiter is !Unpin; a box is Unpin
//   #[pin_project] struct Counted<F> { #[pin] inner: F, polls: u32 }  // part 4
//
// A Waiter is an intrusive waiter, like tokio's `Notified`: its first poll
// puts its own address on a registry's list, and its destructor takes it off
// again. A waiter that moved after registering would leave a dangling address
// on the list. In Rust, Pin makes the move impossible once polled, and Pin's
// drop guarantee makes the destructor run before the memory is reused. In
// pollwake the Waiter deletes its moves, so it is built where it will live.
//
// Each trace line is numbered; `// (n)` marks the statement that prints [n].

#include <algorithm>
#include <concepts>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "examples/trace.h"
#include "poll/context.h"
#include "poll/future.h"
#include "poll/poll.h"
#include "poll/ready.h"
#include "poll/select.h"
#include "poll/waker.h"

using pollwake::Context;
using pollwake::examples::PrintingTask;
using pollwake::examples::trace;
using pollwake::Pending;
using pollwake::Poll;
using pollwake::Ready;
using pollwake::Waker;

namespace {

// The registry: the addresses of the waiters that wait, and a flag.
struct Registry {
  std::vector<const void*> waiting;
  bool notified = false;
  bool holds(const void* p) const {
    return std::find(waiting.begin(), waiting.end(), p) != waiting.end();
  }
};

// [START waiter]
class Waiter {
 public:
  using Output = int;
  Waiter(Registry& r, const char* name) : r_(&r), name_(name) {}
  Waiter(Waiter&&) = delete;  // its address is on a list once polled: !Unpin
  Waiter& operator=(Waiter&&) = delete;
  ~Waiter() {
    if (registered_) {
      std::erase(r_->waiting, static_cast<const void*>(this));
      trace("%s: destructor takes its address off the list", name_);  // (4), (7), (12), (15)
    }
  }

  Poll<int> poll(Context&) {
    if (r_->notified) return Ready(42);
    if (!registered_) {
      r_->waiting.push_back(this);  // the list now points into this object
      registered_ = true;
    }
    return Pending;
  }

 private:
  Registry* r_;
  const char* name_;
  bool registered_ = false;
};
// [END waiter]

static_assert(!std::is_move_constructible_v<Waiter>);

// [START pinned_box]
// PinnedBox<F>: Rust's Pin<Box<F>>. The future lives on the heap; moving the
// box moves the pointer, so the box is movable (Unpin) whatever F is.
template <pollwake::Future F>
class PinnedBox {
 public:
  using Output = pollwake::OutputOf<F>;
  template <class... Args>
    requires std::constructible_from<F, Args...>
  explicit PinnedBox(Args&&... args) : p_(std::make_unique<F>(std::forward<Args>(args)...)) {}
  Poll<Output> poll(Context& cx) { return p_->poll(cx); }
  const F* get() const { return p_.get(); }

 private:
  std::unique_ptr<F> p_;  // never null: a moved-from box is not polled
};
// [END pinned_box]

// [START select_needs_unpin]
template <class A, class B>
concept Selectable = requires(A a, B b) { pollwake::select(std::move(a), std::move(b)); };

static_assert(!Selectable<Waiter, pollwake::ReadyFuture<int>>);            // !Unpin
static_assert(Selectable<PinnedBox<Waiter>, pollwake::ReadyFuture<int>>);  // boxed
// [END select_needs_unpin]

// [START projection]
// Counted<F>: a wrapper future that counts its polls. `inner` is pinned
// (structural: polled in place, never moved out); `polls` is not (a plain
// counter, free to overwrite). Rust needs pin-project for this split; in
// C++ every member access is a projection, and the deleted move of F makes
// Counted<F> immovable too, so `inner` cannot be moved out by accident.
template <pollwake::Future F>
class Counted {
 public:
  using Output = pollwake::OutputOf<F>;
  template <class... Args>
    requires std::constructible_from<F, Args...>
  explicit Counted(Args&&... args) : inner_(std::forward<Args>(args)...) {}
  Poll<Output> poll(Context& cx) {
    ++polls_;                 // unpinned field: a plain &mut
    return inner_.poll(cx);   // pinned field: Pin<&mut F>, polled where it is
  }
  int polls() const { return polls_; }
  const F& inner() const { return inner_; }

 private:
  F inner_;
  int polls_ = 0;
};
// [END projection]

static_assert(!std::is_move_constructible_v<Counted<Waiter>>);  // pinning is structural

PrintingTask g_task{"pin"};

}  // namespace

int main() {
  Waker waker = g_task.waker();
  Context cx = Context::from_waker(waker);
  Registry reg;

  // Part 1: pin! (on the stack). Guaranteed copy elision builds the Waiter in
  // its final place; it can be polled there and never leaves.
  {
    // [START pin_on_stack]
    Waiter a(reg, "stack waiter");
    trace("part 1: poll the stack waiter -> %s", a.poll(cx).is_pending() ? "Pending" : "Ready");  // (1)
    trace("part 1: the list holds its address: %s", reg.holds(&a) ? "yes" : "no");  // (2)
    // auto moved = std::move(a);   // does not compile: Waiter's move is deleted
    // [END pin_on_stack]
    trace("part 1: the scope ends");  // (3)
  }
  trace("part 1: list entries left: %zu", reg.waiting.size());  // (5)

  // Part 2: Box::pin (on the heap). The box moves; the future does not.
  {
    // [START box_pin]
    PinnedBox<Waiter> b(reg, "boxed waiter");
    (void)b.poll(cx);
    const Waiter* where = b.get();
    PinnedBox<Waiter> b2 = std::move(b);  // moves the pointer
    trace("part 2: after moving the box, same address, still listed: %s",  // (6)
          b2.get() == where && reg.holds(where) ? "yes" : "no");
    // [END box_pin]
  }
  trace("part 2: list entries left: %zu", reg.waiting.size());  // (8)

  // Part 3: select needs Unpin. The Waiter goes in boxed; the loser comes out
  // in the result, moved, and its future stays where it was.
  {
    trace("part 3: select(Waiter, ready(7)) compiles: %s",  // (9)
          Selectable<Waiter, pollwake::ReadyFuture<int>> ? "yes" : "no");
    auto sel = pollwake::select(PinnedBox<Waiter>(reg, "selected waiter"), pollwake::ready(7));
    auto r = sel.poll(cx).value();
    auto& [seven, loser] = r.right();
    trace("part 3: ready(%d) won; the boxed waiter is handed back, still listed: %s",  // (10)
          seven, reg.holds(loser.get()) ? "yes" : "no");
    reg.notified = true;
    trace("part 3: the loser, polled again after the notify -> Ready(%d)",  // (11)
          loser.poll(cx).value());
    reg.notified = false;
  }
  trace("part 3: list entries left: %zu", reg.waiting.size());  // (13)

  // Part 4: projection through a wrapper.
  {
    Counted<Waiter> c(reg, "counted waiter");
    (void)c.poll(cx);
    (void)c.poll(cx);
    trace("part 4: Counted polled %d times; its inner waiter listed once: %s",  // (14)
          c.polls(), reg.waiting.size() == 1 && reg.holds(&c.inner()) ? "yes" : "no");
  }
  trace("part 4: list entries left: %zu", reg.waiting.size());  // (16)
  trace("main: end");  // (17)
  return 0;
}
