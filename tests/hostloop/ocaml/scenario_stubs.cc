// tests/hostloop/ocaml/scenario_stubs.cc: the C++ "test functions" that
// lwt_scenario.ml calls (the ocaml-lwt-interop design's "runtime test func"):
// each spawns a pollwake task on the OCaml runtime and returns at once.
//
//   hl_test_call_f_loop rt f n on_done   a task calls the OCaml closure f
//                                        (i = 1..n), awaits the Promise it
//                                        returns, and traces each step
//   hl_test_thread_wake rt on_done       a task awaits a Promise that a C++
//                                        thread resolves while Lwt sleeps
//   hl_test_drop_on_thread p             a C++ thread drops the Promise of p
//                                        (its OCaml cancel closure is queued)
//
// on_done : string option -> unit runs when the task finishes: None, or
// Some message if it failed (the OCaml side then rejects its Lwt promise).
#include <chrono>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

extern "C" {
#include <caml/alloc.h>
#include <caml/callback.h>
#include <caml/fail.h>
#include <caml/memory.h>
#include <caml/mlvalues.h>
#include <caml/printexc.h>
}

#include "interop/coro/async_fn.h"
#include "interop/hostloop/ocaml/hostloop_stubs.h"
#include "interop/hostloop/promise.h"
#include "poll/box_future.h"

namespace {

using pollwake::Context;
using pollwake::Poll;
using pollwake::hostloop::make_promise;
using pollwake::hostloop::Promise;
using pollwake::hostloop::ocaml::OcamlRoot;
using pollwake::hostloop::ocaml::trace;
namespace coro = pollwake::coro;

// Traced: a Promise that says so when the task has to wait for it.
struct Traced {
  using Output = absl::StatusOr<std::string>;
  Promise<std::string> promise;
  Poll<Output> poll(Context& cx) {
    Poll<Output> p = promise.poll(cx);
    if (p.is_pending()) trace("task: awaits the Promise -> Pending (returns to run_ready)");
    return p;
  }
};

// Calls the OCaml closure f with i and takes the Promise it returns.
Promise<std::string> call_f(const OcamlRoot& f, int i) {
  value result = caml_callback_exn(f.get(), Val_int(i));
  if (Is_exception_result(result)) throw std::runtime_error("F raised an OCaml exception");
  return pollwake::hostloop::ocaml::take_promise(result);
}

// [START hostloop_ocaml_task]
coro::Async<> CallFLoop(std::shared_ptr<OcamlRoot> f, int n) {
  for (int i = 1; i <= n; ++i) {
    trace("task: calls F (iteration " + std::to_string(i) + ")");
    Traced promise{call_f(*f, i)};  // a named local, never a temporary: see ThreadWake
    absl::StatusOr<std::string> r = co_await promise;
    if (!r.ok()) {
      trace("task: the Promise was rejected: " + std::string(r.status().message()));
      throw std::runtime_error("F's promise was rejected: " + std::string(r.status().message()));
    }
    trace("task: the Promise is ready: \"" + *r + "\"");
  }
  trace("task: done");
}
// [END hostloop_ocaml_task]

coro::Async<> ThreadWake() {
  // Named locals only: g++ 12 (not clang 14) destroys a braced aggregate
  // temporary awaited in a coroutine, `co_await Traced{std::move(p)}`, twice
  // (the Promise's shared state was released twice; ASan caught it), so the
  // awaited future is always a named local here.
  auto ends = make_promise<std::string>();
  Promise<std::string> promise = std::move(ends.first);
  std::jthread waker([r = std::move(ends.second)]() mutable {
    // Bounded: waits until the task awaits (or was dropped), at most 10 s.
    for (int i = 0; i < 10000 && !r.is_awaited() && !r.is_canceled(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // Lwt is asleep now
    r.resolve("resolved by a C++ thread while Lwt slept");
  });
  trace("task: starts a C++ thread that will resolve the Promise");
  Traced traced{std::move(promise)};
  absl::StatusOr<std::string> r = co_await traced;
  trace("task: the Promise is ready: \"" + (r.ok() ? *r : std::string(r.status().message())) + "\"");
}

// Calls on_done with None or Some message. Main thread, runtime lock held.
void call_done(value on_done, const absl::Status& status) {
  CAMLparam1(on_done);
  CAMLlocal2(msg, some);
  if (status.ok()) {
    some = Val_int(0);  // None
  } else {
    msg = caml_copy_string(std::string(status.message()).c_str());
    some = caml_alloc(1, 0);
    Store_field(some, 0, msg);
  }
  // An exception from on_done (e.g. Lwt.wakeup on a promise already
  // settled) is a bug of the scenario: say so on stderr, which the test
  // compares with the expected trace too, rather than swallow it.
  value r = caml_callback_exn(on_done, some);
  if (Is_exception_result(r)) {
    char* text = caml_format_exception(Extract_exception(r));
    std::fprintf(stderr, "call_done: on_done raised %s\n", text);
    caml_stat_free(text);
  }
  CAMLreturn0;
}

std::function<void(absl::Status)> done_hook(value on_done) {
  auto root = std::make_shared<OcamlRoot>(on_done);
  return [root](absl::Status s) { call_done(root->get(), s); };
}

}  // namespace

namespace hl = pollwake::hostloop::ocaml;

extern "C" {

// Each stub's C++ work runs inside run_guarded: a C++ exception (or a call
// off the main thread) becomes Failure, raised once the work's objects are gone.
value hl_test_call_f_loop(value rt, value f, value n, value on_done) {
  CAMLparam4(rt, f, n, on_done);
  const bool ok = hl::run_guarded("call_f_loop", [&] {
    trace("test func: spawns a task that calls F in a loop");
    auto& ex = hl::runtime_of(rt);
    ex.spawn_local(pollwake::boxed_local(CallFLoop(std::make_shared<OcamlRoot>(f), Int_val(n))),
                   done_hook(on_done));
    trace("test func: returns");
  });
  if (!ok) caml_failwith(hl::stub_error());
  CAMLreturn(Val_unit);
}

value hl_test_thread_wake(value rt, value on_done) {
  CAMLparam2(rt, on_done);
  const bool ok = hl::run_guarded("thread_wake", [&] {
    trace("test func: spawns a task that awaits a C++ thread");
    hl::runtime_of(rt).spawn_local(pollwake::boxed_local(ThreadWake()), done_hook(on_done));
  });
  if (!ok) caml_failwith(hl::stub_error());
  CAMLreturn(Val_unit);
}

// drop_on_thread p: takes the Promise out of p and drops it, unsettled, on
// a C++ thread (joined before returning). Its OCaml cancel closure and the
// closure's GC root must wait for the main thread's next drain.
value hl_test_drop_on_thread(value promise) {
  CAMLparam1(promise);
  const bool ok = hl::run_guarded("drop_on_thread", [&] {
    std::thread([p = hl::take_promise(promise)]() mutable {
      auto dropped = std::move(p);  // destroyed here, on this thread
    }).join();
  });
  if (!ok) caml_failwith(hl::stub_error());
  CAMLreturn(Val_unit);
}

}  // extern "C"
