// examples/02_block_on.cc: block_on parks the calling thread until another
// thread wakes it.
//
//   bash .ci/tour.sh 02        (or: bazel run //examples:02_block_on)
//
// The Rust program this example mirrors (the async book's timer future,
// driven by futures-rs's block_on):
//
//   struct TimerFuture { shared: Arc<Mutex<Shared>> }   // { done, waker }
//   impl Future for TimerFuture {
//       type Output = u32;
//       fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
//           let mut s = self.shared.lock().unwrap();
//           if s.done { Poll::Ready(6 * 7) }
//           else { s.waker = Some(cx.waker().clone()); Poll::Pending }
//       }
//   }
//   fn main() {
//       let v = futures::executor::block_on(TimerFuture::new());  // parks
//       println!("{v}");
//       block_on(async { block_on(async {}) });  // panics: nested executor
//   }
//
// Two threads take part, and the trace names them: `main` (runs block_on
// and every poll) and `timer` (which completes the future and wakes it). The timer thread only starts after the first poll, and main
// only polls again after the wake, so the order of lines is fixed.
//
// Each trace line is numbered; `// (n)` marks the statement that prints [n].
// examples/02_block_on.expected holds the output, and a test compares it.

#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "executor/block_on.h"
#include "executor/enter.h"
#include "poll/context.h"
#include "poll/poll.h"
#include "poll/ready.h"
#include "poll/waker.h"

using pollwake::Context;
using pollwake::Pending;
using pollwake::Poll;
using pollwake::Ready;
using pollwake::Unit;
using pollwake::Waker;

namespace {

std::mutex g_print_mu;  // one line at a time, whichever thread prints
int g_step = 0;
void trace(const char* thread, const char* text) {
  std::lock_guard<std::mutex> lock(g_print_mu);
  std::printf("[%d] %s: %s\n", ++g_step, thread, text);
  std::fflush(stdout);
}

// [START timer_future]
// What the future and the timer thread share (Rust: Arc<Mutex<Shared>>).
struct TimerShared {
  std::mutex mu;
  bool done = false;           // under mu
  std::optional<Waker> waker;  // under mu: the latest poll's waker
  std::thread timer;           // joined by main at the end
};

class TimerFuture {
 public:
  using Output = unsigned;
  explicit TimerFuture(TimerShared* shared) : shared_(shared) {}

  Poll<unsigned> poll(Context& cx) {
    bool first = false;
    {
      std::lock_guard<std::mutex> lock(shared_->mu);
      if (shared_->done) {
        trace("main", "TimerFuture::poll -> Ready(42)");  // (4)
        return Ready(42u);
      }
      // Pending obliges us to have the waker of *this* poll woken later.
      first = !shared_->waker.has_value();
      shared_->waker.emplace(cx.waker());
    }
    trace("main", "TimerFuture::poll -> Pending (waker cloned for the timer)");  // (2)
    if (first) start_timer();
    return Pending;
  }

 private:
  // The "timer": another thread that completes the future and wakes it. It
  // starts lazily, on the first poll: a future does nothing until polled.
  void start_timer() {
    shared_->timer = std::thread([shared = shared_] {
      trace("timer", "fires: done = true, then wakes the stored waker");  // (3)
      std::optional<Waker> w;
      {
        std::lock_guard<std::mutex> lock(shared->mu);
        shared->done = true;
        w = std::move(shared->waker);
        shared->waker.reset();
      }
      std::move(*w).wake();  // unparks main (the wake consumes the clone)
    });
  }

  TimerShared* shared_;
};
// [END timer_future]

}  // namespace

int main() {
  // [START block_on_timer]
  TimerShared shared;
  trace("main", "block_on(TimerFuture): polls, then parks until woken");  // (1)
  unsigned v = pollwake::block_on(TimerFuture(&shared));
  // [END block_on_timer]
  trace("main", "woken: block_on polled again, got Ready");  // (5)
  shared.timer.join();
  std::printf("    value = %u\n", v);

  // A wake before the park: the future wakes itself and returns Pending. The
  // wake is remembered, so block_on polls again at once instead of sleeping.
  // [START wake_before_park]
  int polls = 0;
  auto self_waking = pollwake::poll_fn([&](Context& cx) -> Poll<Unit> {
    if (++polls == 2) {
      trace("main", "poll #2 -> Ready (the early wake was not lost)");  // (7)
      return Ready();
    }
    cx.waker().wake_by_ref();  // before block_on has parked
    trace("main", "poll #1: woke its own waker, -> Pending");  // (6)
    return Pending;
  });
  pollwake::block_on(self_waking);
  // [END wake_before_park]

  // Nesting is refused by the enter guard, with a message that says why.
  // [START nested_block_on]
  pollwake::block_on(pollwake::poll_fn([](Context&) -> Poll<Unit> {
    try {
      pollwake::block_on(pollwake::ready(1));
    } catch (const pollwake::EnterError& e) {
      trace("main", "block_on inside block_on threw EnterError:");  // (8)
      std::printf("    %s\n", e.what());
    }
    return Ready();
  }));
  // [END nested_block_on]
  trace("main", "end");  // (9)
}
