// interop/hostloop/ocaml/hostloop_stubs.h
//
// Models the OCaml-facing half of the ocaml-lwt-interop design: the C stubs
// behind `external` declarations (hostloop.ml) that let OCaml create a
// HostExecutor on its main thread, drive it from an Lwt_unix notification,
// and settle Promise<std::string> values that C++ tasks await.
//
// How pollwake differs, and why: the Rust crate reaches OCaml through
// ocaml-rs's generated bindings; pollwake writes the stubs by hand (the
// CAMLparam/CAMLreturn discipline, custom blocks with finalizers,
// generational global roots), because C++ has no such generator and the
// rules they keep are part of the lesson.
//
// For C++ code that builds test functions on top (a task that calls an
// OCaml closure):
//   * runtime_of(v): the HostExecutor inside an OCaml runtime value.
//   * take_promise(v): moves the Promise out of an OCaml promise value
//     (a promise can be awaited once; taking it twice throws).
//   * OcamlRoot: keeps an OCaml value alive and findable across GCs; create
//     and destroy it on the main thread, with the runtime lock held.
//   * trace(text): one numbered line "[n] text" on stdout, shared with
//     OCaml's Hostloop.trace; call it on the main thread.
// Every function here must run on the OCaml main thread, inside a call from
// OCaml (the runtime lock held), except where a comment says otherwise.
#ifndef POLLWAKE_INTEROP_HOSTLOOP_OCAML_HOSTLOOP_STUBS_H_
#define POLLWAKE_INTEROP_HOSTLOOP_OCAML_HOSTLOOP_STUBS_H_

#include <string>

extern "C" {
#include <caml/mlvalues.h>
}

#include "interop/hostloop/host_executor.h"
#include "interop/hostloop/promise.h"

namespace pollwake::hostloop::ocaml {

HostExecutor& runtime_of(value runtime);
Promise<std::string> take_promise(value promise);
void trace(const std::string& text);

class OcamlRoot {
 public:
  explicit OcamlRoot(value v);
  OcamlRoot(const OcamlRoot&) = delete;
  OcamlRoot& operator=(const OcamlRoot&) = delete;
  ~OcamlRoot();
  value get() const { return v_; }

 private:
  value v_;
};

}  // namespace pollwake::hostloop::ocaml

#endif  // POLLWAKE_INTEROP_HOSTLOOP_OCAML_HOSTLOOP_STUBS_H_
