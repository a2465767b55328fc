// examples/14_libuv_host.cc: a libuv event loop drives pollwake tasks; the
// executor never runs a loop of its own.
//
//   bash .ci/tour.sh 14        (or: bazel run //examples:14_libuv_host)
//
// The shape this example mirrors (the ocaml-lwt-interop design, with libuv
// in the place of Lwt):
//
//   let host = UvHost::new(&loop);          // notify hook = uv_async_send
//   host.spawn(ticker());                   // awaits uv timers, then a thread
//   host.spawn(greeter());                  // finishes on its first poll
//   loop.run();                             // the loop calls run_ready()
//
// What to watch: spawning twice before the loop runs costs one notification
// (the executor coalesces); each uv_async callback runs one pass that polls
// only the ready tasks and returns to the loop; a uv timer resolves a Promise,
// whose wake notifies again; a Promise resolved by another thread wakes the
// loop out of epoll (that notify is not traced: it happens on the other
// thread, at a moment the trace cannot fix); uv_run returns by itself once no
// task is left, because the async handle is unref'd then.
//
// Each trace line is numbered; `// (n)` marks the statement that prints [n].
// examples/14_libuv_host.expected holds the output, and a test compares it.

#include <uv.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <utility>

#include "interop/coro/async_fn.h"
#include "interop/hostloop/promise.h"
#include "interop/hostloop/uv_host.h"
#include "poll/box_future.h"

using pollwake::boxed_local;
using pollwake::coro::Async;
using pollwake::hostloop::make_promise;
using pollwake::hostloop::Promise;
using pollwake::hostloop::uv_delay;
using pollwake::hostloop::UvHost;
using pollwake::hostloop::UvHostObservers;

namespace {

int g_step = 0;
void trace(const std::string& text) { std::printf("[%d] %s\n", ++g_step, text.c_str()); }

const std::thread::id kMainThread = std::this_thread::get_id();

// [START hostloop_example_ticker]
Async<> ticker(uv_loop_t* loop) {
  for (int i = 1; i <= 2; ++i) {
    trace("ticker: awaits a 1 ms uv timer");  // (5), (10)
    Promise<pollwake::Unit> timer = uv_delay(loop, 1);
    (void)co_await timer;
    trace("ticker: tick " + std::to_string(i));  // (9), (13)
  }
  auto ends = make_promise<std::string>();
  Promise<std::string> reply = std::move(ends.first);
  std::jthread helper([r = std::move(ends.second)]() mutable {
    // Waits (bounded) until the task awaits, then resolves from this thread.
    for (int i = 0; i < 10000 && !r.is_awaited(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    r.resolve("hello from another thread");
  });
  trace("ticker: awaits a Promise that another thread resolves");  // (14)
  absl::StatusOr<std::string> got = co_await reply;
  trace("ticker: got \"" + (got.ok() ? *got : std::string(got.status().message())) + "\"");  // (16)
}
// [END hostloop_example_ticker]

Async<> greeter() {
  trace("greeter: hello (Ready on its first poll)");  // (6)
  co_return;
}

}  // namespace

int main() {
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    UvHostObservers observers;
    observers.on_notify = [] {
      if (std::this_thread::get_id() == kMainThread) {
        trace("notify -> uv_async_send");  // (3), (8), (12)
      }
    };
    int pass = 0;
    observers.on_pass = [&pass](std::size_t polled) {
      trace("loop: pass " + std::to_string(++pass) + " polled " + std::to_string(polled) +
            " task(s), back to the loop");  // (7), (11), (15), (17)
    };
    UvHost host(&loop, observers);
    trace("main: a UvHost on a fresh uv loop (notify hook: uv_async_send)");  // (1)
    trace("main: spawns ticker and greeter");  // (2)
    host.spawn_local(boxed_local(ticker(&loop)));
    host.spawn_local(boxed_local(greeter()));
    trace("main: two spawns, " + std::to_string(host.executor().notify_calls()) +
          " notify call; uv_run");  // (4)
    uv_run(&loop, UV_RUN_DEFAULT);
    trace("main: uv_run returned: no task left; " + std::to_string(host.passes()) + " passes, " +
          std::to_string(host.executor().notify_calls()) + " notify calls");  // (18)
  }  // ~UvHost closes the async handle
  uv_run(&loop, UV_RUN_DEFAULT);  // lets the close callback free it
  trace(std::string("main: loop closed: ") + (uv_loop_close(&loop) == 0 ? "ok" : "handles left"));  // (19)
}
