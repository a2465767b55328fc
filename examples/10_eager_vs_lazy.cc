// examples/10_eager_vs_lazy.cc: one program, three ways. When does "Hello!"
// print?
//
//   bash .ci/tour.sh 10        (or: bazel run //examples:10_eager_vs_lazy)
//   bazel run //examples:10_eager_vs_lazy -- --sizes   (also prints sizes)
//
// The program is the trivial async function of examples/01_trivial.cc:
//
//   async fn trivial() -> u32 {            // Rust
//       println!("Hello!");
//       let value = event().await;
//       println!("Got: {}", value);
//       value * 2
//   }
//
//   static async Task<uint> Trivial() {    // C#
//       Console.WriteLine("Hello!");
//       uint value = await Event();
//       Console.WriteLine("Got: " + value);
//       return value * 2;
//   }
//
// Part 1 is the state machine rustc would generate, written by hand (as in
// examples/01_trivial.cc). Part 2 is the same body as a lazy C++20 coroutine,
// coro::Async (interop/coro/async_fn.h). Both print "Hello!" at the first
// poll, not at the call. Part 3 is the C# async method on the eager model
// (interop/csharp/task.h): "Hello!" prints during the call, and the rest runs
// inside SetResult, on the thread that completes the event. Part 3 prints
// what real C# prints: tests/oracles/csharp/10_eager_vs_lazy.cs checks it.
//
// Each part also counts heap allocations (a counting operator new, below).
// Each trace line is numbered; `// (n)` marks the statement that prints [n].

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <optional>
#include <utility>
#include <variant>

#include "interop/coro/async_fn.h"
#include "interop/coro/frame_stats.h"
#include "interop/csharp/task.h"
#include "interop/csharp/task_completion_source.h"
#include "poll/context.h"
#include "poll/poll.h"
#include "poll/latest_waker.h"
#include "poll/waker.h"
#include "poll/waker_fn.h"

using pollwake::Context;
using pollwake::LatestWaker;
using pollwake::Pending;
using pollwake::Poll;
using pollwake::Ready;
using pollwake::Waker;

// Counting every (unaligned) operator new of the program, to show what each
// model allocates. Only the main thread allocates while a part is measured.
namespace {
std::atomic<std::size_t> g_allocations{0};
}  // namespace
void* operator new(std::size_t n) {
  // ORDERING: relaxed; a statistic, read later by the same thread.
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

int g_step = 0;
void trace(const char* text) { std::printf("[%d] %s\n", ++g_step, text); }
// ORDERING: relaxed; every allocation counted here was made by this thread.
std::size_t allocations() { return g_allocations.load(std::memory_order_relaxed); }

// ---------------------------------------------------------------------------
// The event, for the lazy parts: a pollwake future that is Pending until
// main() fires it, and then wakes the waker it stored.
struct EventSlot {
  std::optional<std::uint32_t> value;
  LatestWaker waker;  // the idiom of poll/latest_waker.h (example 01 writes it out)
};
EventSlot g_event;

class EventFuture {
 public:
  using Output = std::uint32_t;
  Poll<std::uint32_t> poll(Context& cx) {
    if (g_event.value) return Ready(*g_event.value);
    g_event.waker.update(cx.waker());
    return Pending;
  }
};
EventFuture event() {
  g_event = EventSlot{};
  return EventFuture{};
}
void fire_event(std::uint32_t v) {
  g_event.value = v;
  g_event.waker.take().wake();
}

// ---------------------------------------------------------------------------
// Part 1: the hand-written state machine.
// [START hand_written]
class TrivialFuture {
 public:
  using Output = std::uint32_t;
  Poll<std::uint32_t> poll(Context& cx) {
    if (std::holds_alternative<NeverPolled>(state_)) {
      std::printf("Hello!\n");
      state_ = WaitingForE{event()};
    }
    if (auto* waiting = std::get_if<WaitingForE>(&state_)) {
      Poll<std::uint32_t> p = waiting->e.poll(cx);
      if (p.is_pending()) return Pending;
      std::uint32_t value = p.value();
      std::printf("Got: %u\n", value);
      state_ = Finished{};
      return Ready(value * 2);
    }
    pollwake::polled_after_completion("trivial");
  }

 private:
  struct NeverPolled {};
  struct WaitingForE {
    EventFuture e;
  };
  struct Finished {};
  std::variant<NeverPolled, WaitingForE, Finished> state_;
};
TrivialFuture trivial_by_hand() { return TrivialFuture{}; }
// [END hand_written]

// Part 2: the same body as a lazy coroutine. The compiler writes the state
// machine; `co_await` polls EventFuture with the Context of the current poll.
// [START lazy_coroutine]
pollwake::coro::Async<std::uint32_t> trivial() {
  std::printf("Hello!\n");                   // line 1
  EventFuture e = event();                   // line 2
  std::uint32_t value = co_await e;          // line 3
  std::printf("Got: %u\n", value);           // line 4
  co_return value * 2;                       // line 5
}
// [END lazy_coroutine]

// Part 3: the same body as a C# async method on the eager model. Event() is
// C#'s way to say "later": a Task that a TaskCompletionSource completes.
// [START eager_task]
std::optional<pollwake::csharp::TaskCompletionSource<std::uint32_t>> g_evt;

pollwake::csharp::Task<std::uint32_t> Event() {
  g_evt.emplace();
  return g_evt->Task();
}

pollwake::csharp::Task<std::uint32_t> Trivial() {
  std::printf("Hello!\n");                                  // line 1
  pollwake::csharp::Task<std::uint32_t> e = Event();        // line 2
  std::uint32_t value = co_await e;                         // line 3
  std::printf("Got: %u\n", value);                          // line 4
  co_return value * 2;                                      // line 5
}
// [END eager_task]

// Drives a lazy future by hand, as an executor would: poll, fire, poll.
// Parts 1 and 2 share it, so their traces line up.
template <class F>
void drive(F make, const char* what) {
  bool woken = false;  // set by the waker; main reads it on the same thread
  Waker waker = pollwake::waker_fn([&woken] { woken = true; });
  Context cx = Context::from_waker(waker);
  const std::size_t before = allocations();

  // [START drive]
  std::printf("[%d] main: calling %s\n", ++g_step, what);  // (1), (10)
  auto fut = make();
  trace("main: it returned a future; nothing has run, nothing printed");  // (2), (11)
  trace("main: first poll");                                            // (3), (12)
  Poll<std::uint32_t> p = fut.poll(cx);
  trace(p.is_pending() ? "main: poll -> Pending" : "main: poll -> Ready?");  // (4), (13)
  trace("main: the event fires: fire_event(21) wakes the stored waker");   // (5), (14)
  fire_event(21);
  trace(woken ? "main: woken, so poll again" : "main: not woken?");  // (6), (15)
  p = fut.poll(cx);
  std::printf("[%d] main: poll -> Ready(%u)\n", ++g_step, p.value());  // (7), (16)
  // [END drive]

  std::printf("[%d] main: heap allocations for this run: %zu\n", ++g_step,  // (8), (17)
              allocations() - before);
}

}  // namespace

int main(int argc, char** argv) {
  const bool sizes = argc > 1 && std::strcmp(argv[1], "--sizes") == 0;

  std::printf("== 1. hand-written state machine (what rustc generates)\n");
  drive(trivial_by_hand, "trivial_by_hand()");
  {
    std::size_t before = allocations();
    { [[maybe_unused]] TrivialFuture dropped = trivial_by_hand(); }
    std::printf("[%d] main: a second one, dropped unpolled: no Hello!, %zu allocations\n",  // (9)
                ++g_step, allocations() - before);
  }

  std::printf("== 2. lazy C++20 coroutine (coro::Async<std::uint32_t>)\n");
  drive(trivial, "trivial()");
  {
    std::size_t before = allocations();
    { [[maybe_unused]] auto dropped = trivial(); }  // the frame is allocated, then destroyed: nothing ran
    std::printf("[%d] main: a second one, dropped unpolled: no Hello!, %zu allocation (its frame)\n",  // (18)
                ++g_step, allocations() - before);
  }

  std::printf("== 3. eager C# task (csharp::Task<std::uint32_t>), as C# runs it\n");
  // [START eager_main]
  std::size_t before = allocations();
  trace("main: calling Trivial()");  // (19)
  pollwake::csharp::Task<std::uint32_t> t = Trivial();
  std::printf("[%d] main: Trivial() returned a Task; IsCompleted = %s\n", ++g_step,  // (20)
              t.IsCompleted() ? "True" : "False");
  trace("main: the event fires: SetResult(21) runs the rest of Trivial() inline");  // (21)
  g_evt->SetResult(21);
  std::printf("[%d] main: SetResult returned; IsCompleted = %s\n", ++g_step,  // (22)
              t.IsCompleted() ? "True" : "False");
  std::printf("[%d] main: Result = %u\n", ++g_step, t.GetResult());  // (23)
  // [END eager_main]
  std::printf("== end of part 3\n");
  std::printf("[%d] main: heap allocations for part 3: %zu\n", ++g_step,  // (24)
              allocations() - before);
  g_evt.reset();

  if (sizes) {
    std::printf("sizes (they depend on the compiler and its flags, so they are not in the checked trace):\n");
    std::printf("  sizeof(TrivialFuture), hand-written, lives inside its owner: %zu bytes\n",
                sizeof(TrivialFuture));
    auto lazy = trivial();
    std::printf("  coroutine frame of trivial() (coro::Async), on the heap:      %zu bytes\n",
                pollwake::coro::frame_stats().last_size.load());
    std::printf("  sizeof(coro::Async<std::uint32_t>), the handle:               %zu bytes\n", sizeof(lazy));
    std::printf("  sizeof(csharp::Task<std::uint32_t>), the handle:              %zu bytes\n",
                sizeof(pollwake::csharp::Task<std::uint32_t>));
  }
  return 0;
}
