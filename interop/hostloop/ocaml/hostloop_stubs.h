// interop/hostloop/ocaml/hostloop_stubs.h
//
// Models the OCaml-facing half of the ocaml-lwt-interop design: the C stubs
// behind `external` declarations (hostloop.ml) that let OCaml create a
// HostExecutor on its main thread, drive it from Lwt's loop, and settle
// Promise<std::string> values that C++ tasks await.
//
// How pollwake differs, and why: the Rust crate reaches OCaml through
// ocaml-rs's generated bindings and uses Lwt's own notification
// (lwt_unix_send_notification); pollwake writes the stubs by hand (the
// CAMLparam/CAMLreturn discipline, custom blocks with finalizers,
// generational global roots), because C++ has no such generator and the
// rules they keep are part of the lesson, and it owns its notification
// channel (an eventfd) because Lwt's C function raises an OCaml exception
// when its write fails, which on a thread OCaml does not know ends the
// process.
//
// The threading rule (one rule for every stub and every helper here):
//   * The OCaml runtime is touched only on the OCaml main thread (the one
//     that initialised the Hostloop module), inside a call from OCaml, with
//     the runtime lock held. Every stub checks it and raises Failure
//     elsewhere (e.g. on another OCaml thread).
//   * Any thread may wake a task, spawn through a HostSpawner, settle or drop
//     a Promise/Resolver, or drop an OcamlRoot. What that would need of
//     OCaml (removing a GC root, running an OCaml cancel closure) is queued
//     and done by the main thread's next drain (run_ready, close), which the
//     runtime's eventfd schedules. Off the main thread pollwake only writes
//     that eventfd.
//   * GC finalizers only queue: the C++ destructor of a collected promise,
//     resolver or runtime runs in the next drain, never inside the GC.
//   * No C++ exception leaves a stub: each one catches at its boundary and
//     raises Failure with the message, after its own C++ objects are gone.
//     What cannot raise (a finalizer, a write to the eventfd) aborts with a
//     message on stderr when it fails (out of memory, the eventfd closed under
//     a live executor): both are bugs, and a lost wakeup would hang instead.
//
// For C++ code that builds test functions on top (a task that calls an
// OCaml closure):
//   * runtime_of(v): the HostExecutor inside an OCaml runtime value.
//   * take_promise(v): moves the Promise out of an OCaml promise value
//     (a promise can be awaited once; taking it twice throws).
//   * OcamlRoot: keeps an OCaml value alive and findable across GCs; create
//     it on the main thread; destroy it on any thread (see above).
//   * trace(text): one numbered line "[n] text" on stdout, shared with
//     OCaml's Hostloop.trace; main thread only.
//   * on_main_thread(): the thread rule's test.
//   * run_guarded(stub, body) / stub_error(): the stub boundary. Runs body
//     on the main thread, catching every C++ exception; false means "raise
//     caml_failwith(stub_error()) now" (after body's objects are gone).
#ifndef POLLWAKE_INTEROP_HOSTLOOP_OCAML_HOSTLOOP_STUBS_H_
#define POLLWAKE_INTEROP_HOSTLOOP_OCAML_HOSTLOOP_STUBS_H_

#include <functional>
#include <string>

extern "C" {
#include <caml/mlvalues.h>
}

#include "interop/hostloop/host_executor.h"
#include "interop/hostloop/promise.h"

namespace pollwake::hostloop::ocaml {

bool on_main_thread() noexcept;
HostExecutor& runtime_of(value runtime);
Promise<std::string> take_promise(value promise);
void trace(const std::string& text);
// Runs `fn` on the main thread at its next drain. Any thread (and GC
// finalizers); aborts with a message if it cannot queue.
void defer_to_main(std::function<void()> fn) noexcept;

bool run_guarded(const char* stub, const std::function<void()>& body) noexcept;
const char* stub_error() noexcept;

class OcamlRoot {
 public:
  // Main thread only (throws std::logic_error elsewhere).
  explicit OcamlRoot(value v);
  OcamlRoot(const OcamlRoot&) = delete;
  OcamlRoot& operator=(const OcamlRoot&) = delete;
  // Any thread: off the main thread the root's removal is queued.
  ~OcamlRoot();
  value get() const { return *cell_; }

 private:
  value* cell_;  // heap cell: its address is the registered root
};

}  // namespace pollwake::hostloop::ocaml

#endif  // POLLWAKE_INTEROP_HOSTLOOP_OCAML_HOSTLOOP_STUBS_H_
