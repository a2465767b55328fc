// examples/18_streams.cc: streams, the futures that yield many values.
//
//   bash .ci/tour.sh 18        (or: bazel run //examples:18_streams)
//
// The Rust this example rewrites (chapter docs/13_streams.md):
//
//   impl Stream for Countdown { type Item = u32;             // part 1
//       fn poll_next(..) -> Poll<Option<u32>> { .. } }
//   let (tx, mut rx) = mpsc::unbounded::<u32>();             // part 2
//   async fn total(mut rx: UnboundedReceiver<u32>) -> u32 {  // part 3
//       let mut sum = 0;
//       while let Some(x) = rx.next().await { sum += x; }    // line 1
//       sum                                                  // line 2
//   }
//
// Each trace line is numbered; `// (n)` marks the statement that prints [n].

#include <cstdint>
#include <optional>
#include <utility>
#include <variant>

#include "examples/trace.h"
#include "poll/context.h"
#include "poll/future.h"
#include "poll/mpsc.h"
#include "poll/poll.h"
#include "poll/stream.h"
#include "poll/waker.h"

using pollwake::Context;
using pollwake::examples::PrintingTask;
using pollwake::examples::trace;
using pollwake::Pending;
using pollwake::Poll;
using pollwake::Ready;
using pollwake::Waker;

namespace {

// [START countdown]
// Countdown: yields n, n-1, .., 1, then ends; fused (keeps answering None).
class Countdown {
 public:
  explicit Countdown(std::uint32_t n) : n_(n) {}
  Poll<std::optional<std::uint32_t>> poll_next(Context&) {
    if (n_ == 0) return Ready(std::optional<std::uint32_t>());  // Ready(None)
    return Ready(std::optional<std::uint32_t>(n_--));           // Ready(Some(n))
  }

 private:
  std::uint32_t n_;
};
static_assert(pollwake::Stream<Countdown>);
// [END countdown]

// [START total_future]
// total(rx) as the compiler would write it: one await point (line 1), which
// is inside a loop, so the waiting state is re-entered once per message.
struct NeverPolled {
  pollwake::mpsc::UnboundedReceiver<std::uint32_t> rx;
};
struct AwaitingNext {  // suspended at line 1, `rx.next().await`
  pollwake::mpsc::UnboundedReceiver<std::uint32_t> rx;
  std::uint32_t sum;
};
struct Finished {};

class TotalFuture {
 public:
  using Output = std::uint32_t;
  explicit TotalFuture(pollwake::mpsc::UnboundedReceiver<std::uint32_t> rx)
      : state_(NeverPolled{std::move(rx)}) {}

  Poll<std::uint32_t> poll(Context& cx) {
    if (auto* s = std::get_if<NeverPolled>(&state_)) {
      state_.emplace<AwaitingNext>(AwaitingNext{std::move(s->rx), 0});  // sum = 0
    }
    auto* s = std::get_if<AwaitingNext>(&state_);
    if (s == nullptr) pollwake::polled_after_completion("total");
    for (;;) {  // the while loop
      Poll<std::optional<std::uint32_t>> p = s->rx.poll_next(cx);  // line 1
      if (p.is_pending()) {
        trace("TotalFuture::poll -> Pending (sum so far %u)", s->sum);  // (8), (12)
        return Pending;
      }
      std::optional<std::uint32_t> x = p.value();
      if (!x) break;  // Ready(None): every sender is gone
      s->sum += *x;
      trace("TotalFuture: got %u, sum = %u", *x, s->sum);  // (7), (10), (11), (14)
    }
    const std::uint32_t sum = s->sum;
    state_ = Finished{};  // line 2; drops the receiver
    return Ready(sum);
  }

 private:
  std::variant<NeverPolled, AwaitingNext, Finished> state_;
};
// [END total_future]

PrintingTask g_task{"streams"};

}  // namespace

int main() {
  Waker waker = g_task.waker();
  Context cx = Context::from_waker(waker);

  // Part 1: a stream by hand, polled by hand.
  {
    Countdown c(2);
    for (int i = 0; i < 4; ++i) {
      Poll<std::optional<std::uint32_t>> p = c.poll_next(cx);
      if (p.value()) {
        trace("part 1: poll_next -> Ready(Some(%u))", *p.value());  // (1), (2)
      } else {
        trace("part 1: poll_next -> Ready(None)");  // (3), (4)
      }
    }
    std::uint32_t seen = 0;
    auto loop = pollwake::for_each(Countdown(3), [&seen](std::uint32_t x) { seen = seen * 10 + x; });
    const bool ready = loop.poll(cx).is_ready();  // one poll runs the whole loop
    trace("part 1: for_each over Countdown(3) -> %s, saw %u",  // (5)
          ready ? "Ready" : "Pending", seen);
  }

  // Parts 2 and 3: a channel's receiver is a stream; total() loops over it.
  {
    // [START drive_total]
    auto [tx, rx] = pollwake::mpsc::unbounded<std::uint32_t>();
    (void)tx.unbounded_send(1);
    TotalFuture total(std::move(rx));
    trace("part 2: one message queued; poll total");  // (6)
    (void)total.poll(cx);
    trace("part 2: send 2 and 3 from outside");  // (9)
    (void)tx.unbounded_send(2);  // wakes the stored waker
    (void)tx.unbounded_send(3);  // nothing stored any more: no second wake
    (void)total.poll(cx);
    trace("part 3: send 4, then drop the last sender");  // (13)
    (void)tx.unbounded_send(4);
    { auto last = std::move(tx); }
    Poll<std::uint32_t> p = total.poll(cx);
    trace("part 3: the stream ended: total -> Ready(%u)", p.value());  // (15)
    // [END drive_total]
  }
  trace("main: end");  // (16)
  return 0;
}
