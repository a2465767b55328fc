// examples/17_pitfalls.cc: five ways to get async code wrong, each run
// safely (bounded, on purpose, with the damage printed instead of suffered).
//
//   bash .ci/tour.sh 17        (or: bazel run //examples:17_pitfalls)
//
// Chapter docs/12_pitfalls.md explains each part:
//   part 1  blocking inside poll: one task spins waiting for another that the
//           single-threaded LocalPool cannot run until the spinner returns.
//   part 2  state that makes a future !Send: a thread-bound value held across
//           an await, resumed on another thread (Rust refuses to compile it).
//   part 3  cancellation safety in a select loop: a future that holds data
//           loses it when select drops it; mpsc's next() holds none.
//   part 4  a stored waker never woken: the event completes, nobody wakes,
//           and a bounded wait (a watchdog) is what notices.
//   part 5  recursion: a future that contains itself has no size; boxing the
//           recursive call gives it one.
//
// Each trace line is numbered; `// (n)` marks the statement that prints [n].

#include <atomic>
#include <chrono>
#include <deque>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "examples/trace.h"
#include "executor/local_pool.h"
#include "poll/box_future.h"
#include "poll/context.h"
#include "poll/future.h"
#include "poll/mpsc.h"
#include "poll/poll.h"
#include "poll/select.h"
#include "poll/waker.h"

using pollwake::Context;
using pollwake::examples::PrintingTask;
using pollwake::examples::trace;
using pollwake::Pending;
using pollwake::Poll;
using pollwake::Ready;
using pollwake::Unit;
using pollwake::Waker;

namespace {

// ---------------------------------------------------------------------------
// Part 1: blocking inside poll.

// [START blocking_poll]
// Spinner: waits for `flag` by checking it in a loop INSIDE poll (the bug:
// it should return Pending and be woken). Bounded, so the example ends.
struct Spinner {
  using Output = Unit;
  const bool* flag;
  int* checks;
  Poll<Unit> poll(Context&) {
    while (!*flag && *checks < 1000) ++*checks;  // blocks the pool's only thread
    return Ready();
  }
};
// Setter: the task that would set the flag, if it ever got the thread.
struct Setter {
  using Output = Unit;
  bool* flag;
  Poll<Unit> poll(Context&) {
    *flag = true;
    return Ready();
  }
};
// [END blocking_poll]

// ---------------------------------------------------------------------------
// Part 2: a !Send state. ThreadBound stands for Rc, a MutexGuard, a
// thread-local handle: something that is only right on the thread that
// made it. C++ cannot say "this type must not cross threads", so it checks.
class ThreadBound {
 public:
  bool on_home_thread() const { return home_ == std::this_thread::get_id(); }

 private:
  std::thread::id home_ = std::this_thread::get_id();
};

// [START not_send]
// async { let guard = ThreadBound::new(); yield_now().await; guard.use() }
class HoldsAcrossAwait {
 public:
  using Output = bool;  // was the value used on its own thread?
  Poll<bool> poll(Context& cx) {
    if (!bound_) {
      bound_.emplace();           // made on the thread of the first poll
      cx.waker().wake_by_ref();   // yield_now().await
      return Pending;
    }
    return Ready(bound_->on_home_thread());  // used after the await
  }

 private:
  std::optional<ThreadBound> bound_;  // lives across the await: part of the state
};
// [END not_send]

// ---------------------------------------------------------------------------
// Part 3: cancellation safety.

struct Tick {  // Ready at once: it always wins the biased select
  using Output = Unit;
  Poll<Unit> poll(Context&) { return Ready(); }
};

// [START not_cancel_safe]
// TakeTwo: takes messages off the channel into its own state until it has
// two. Dropped with one inside, that message is gone.
class TakeTwo {
 public:
  using Output = std::pair<int, int>;
  explicit TakeTwo(pollwake::mpsc::Receiver<int>& rx) : rx_(&rx) {}
  Poll<Output> poll(Context& cx) {
    while (got_.size() < 2) {
      Poll<std::optional<int>> p = rx_->poll_next(cx);
      if (p.is_pending()) return Pending;  // the channel holds cx's waker
      // A closed channel would end the stream mid-pair; returning Pending
      // then would be a lost wakeup (nothing holds a waker), so say it.
      if (!p.value()) throw std::logic_error("TakeTwo: the channel closed mid-pair");
      got_.push_back(*p.value());
    }
    return Ready(Output(got_[0], got_[1]));
  }

 private:
  pollwake::mpsc::Receiver<int>* rx_;
  std::vector<int> got_;  // what a drop loses
};
// [END not_cancel_safe]

// ---------------------------------------------------------------------------
// Part 4: a waker stored, never woken.

struct Slot {
  bool done = false;
  std::optional<Waker> waker;
};
struct WaitSlot {
  using Output = Unit;
  Slot* slot;
  Poll<Unit> poll(Context& cx) {
    if (slot->done) return Ready();
    slot->waker.emplace(cx.waker());
    return Pending;
  }
};
// [START never_woken]
void complete_but_forget_to_wake(Slot& s) {
  s.done = true;  // BUG: s.waker is left where it is, never woken
}
// [END never_woken]

// ---------------------------------------------------------------------------
// Part 5: recursion.

// [START recursion]
// async fn sum_to(n: u32) -> u32 { if n == 0 { 0 } else { n + sum_to(n - 1).await } }
// As a struct, SumTo would hold a SumTo (the awaited call): an infinite size,
// which C++ rejects as an incomplete type (rustc: error E0733, "recursion in
// an async fn requires boxing"). The box holds the child on the heap.
class SumTo {
 public:
  using Output = unsigned;
  explicit SumTo(unsigned n) : n_(n) {}
  Poll<unsigned> poll(Context& cx) {
    if (n_ == 0) return Ready(0u);
    if (!child_) child_.emplace(pollwake::boxed_local(SumTo(n_ - 1)));
    Poll<unsigned> p = child_->poll(cx);
    if (p.is_pending()) return Pending;
    return Ready(n_ + p.value());
  }

 private:
  unsigned n_;
  std::optional<pollwake::LocalBoxFuture<unsigned>> child_;  // the boxed call
};
// [END recursion]

PrintingTask g_task{"pitfalls"};

}  // namespace

int main() {
  Waker waker = g_task.waker();
  Context cx = Context::from_waker(waker);

  // Part 1.
  {
    bool flag = false;
    int checks = 0;
    pollwake::LocalPool pool;
    pool.spawner().spawn_local(Spinner{&flag, &checks});
    pool.spawner().spawn_local(Setter{&flag});
    pool.run_until_stalled();
    trace("part 1: the spinner checked the flag %d times; it was %s while it spun",  // (1)
          checks, checks == 1000 ? "never set" : "set");
    trace("part 1: the setter ran only after the spinner's poll returned: flag = %s",  // (2)
          flag ? "true" : "false");
  }

  // Part 2.
  {
    HoldsAcrossAwait fut;
    trace("part 2: first poll on main -> %s", fut.poll(cx).is_pending() ? "Pending" : "Ready");  // (3)
    bool on_home = true;
    std::thread other([&] {
      Context cx2 = Context::from_waker(Waker::noop());
      on_home = fut.poll(cx2).value();
    });
    other.join();
    trace("part 2: resumed on another thread, the held value was on its own thread: %s",  // (4)
          on_home ? "yes" : "no");
  }

  // Part 3.
  {
    auto [tx, rx] = pollwake::mpsc::unbounded<int>();
    for (int i = 1; i <= 3; ++i) (void)tx.unbounded_send(i);
    // loop { select! { pair = take_two(&mut rx) => .., _ = tick => .. } }
    // Turn 1: messages 1 and 2 are queued, so take_two (polled first) wins.
    auto turn = pollwake::select(TakeTwo(rx), Tick{});
    Poll<decltype(turn)::Output> p = turn.poll(cx);
    if (p.is_ready() && p.value().is_left()) {
      auto [pair, tick] = std::move(p).value().left();
      trace("part 3: take_two won with (%d, %d) before the tick",  // (5)
            pair.first, pair.second);
    }
    // [START select_loop_loses]
    // Turn 2: one message left. take_two takes it and waits for a second;
    // the tick wins, and the take_two holding message 3 is dropped. (Its
    // waker stays in the channel: the next send wakes a task for nothing.)
    auto turn2 = pollwake::select(TakeTwo(rx), Tick{});
    auto r2 = turn2.poll(cx).value();
    trace("part 3: next turn: the tick won; take_two was dropped holding a message: %s",  // (6)
          r2.is_right() ? "yes" : "no");
    (void)tx.unbounded_send(4);
    auto after = rx.try_next();
    trace("part 3: the receiver's next message is %d; message 3 is lost",  // (7)
          after.is_ok() && after.value() ? *after.value() : -1);
    // [END select_loop_loses]
    // The cancel-safe way: next() holds nothing, so losing a turn loses nothing.
    (void)tx.unbounded_send(5);
    auto turn3 = pollwake::select(Tick{}, rx.next());
    auto r3 = turn3.poll(cx).value();
    auto still = rx.try_next();
    trace("part 3: with next(), the tick won (%s) and message 5 is still queued: %s",  // (8)
          r3.is_left() ? "yes" : "no", still.is_ok() && still.value() == 5 ? "yes" : "no");
  }

  // Part 4.
  {
    Slot slot;
    WaitSlot fut{&slot};
    g_task.take_woken();
    trace("part 4: poll -> %s (waker stored)", fut.poll(cx).is_pending() ? "Pending" : "Ready");  // (9)
    complete_but_forget_to_wake(slot);
    const bool woken = g_task.wait_woken(std::chrono::seconds(0));
    trace("part 4: the event is done; woken within the watchdog's limit: %s",  // (10)
          woken ? "yes" : "no");
    trace("part 4: an executor would never poll again; polling anyway -> %s",  // (11)
          fut.poll(cx).is_ready() ? "Ready" : "Pending");
  }

  // Part 5.
  {
    SumTo fut(10);
    trace("part 5: sizeof(SumTo) = %zu bytes at any depth; sum_to(10) -> Ready(%u)",  // (12)
          sizeof(SumTo), fut.poll(cx).value());
  }
  trace("main: end");  // (13)
  return 0;
}
