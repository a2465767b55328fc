// interop/hostloop/ocaml/hostloop_stubs.cc: the C stubs behind hostloop.ml
// (hostloop_stubs.h says what they model).
//
// Two rules of OCaml's C interface shape this file:
//   * An OCaml exception raised from C (caml_failwith) unwinds with longjmp,
//     which skips C++ destructors. So no C++ exception may escape a stub, and
//     a stub raises only after every C++ object of its own has been
//     destroyed: errors are copied into a static buffer first.
//   * Custom-block finalizers may not call OCaml. Dropping a Promise there
//     would run its cancel closure, so finalizers set `tl_in_finalizer` and
//     the cancel hook then only releases the closure.
#include "interop/hostloop/ocaml/hostloop_stubs.h"

#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <thread>
#include <utility>

extern "C" {
#include <caml/alloc.h>
#include <caml/callback.h>
#include <caml/custom.h>
#include <caml/fail.h>
#include <caml/memory.h>
#include <caml/mlvalues.h>

// From Lwt's lwt_unix.h, declared here because that header is C but not
// C++ (it declares `struct lwt_unix_job` and a typedef `lwt_unix_job` for a
// pointer to it, which C++ refuses). The signature is Lwt's, unchanged; the
// function lives in Lwt's C stubs that ocamlfind links into the program.
void lwt_unix_send_notification(intnat id);
}

namespace pollwake::hostloop::ocaml {

namespace {

thread_local bool tl_in_finalizer = false;
int g_step = 0;
std::thread::id g_main_thread;
char g_error[512];  // an error message waiting for caml_failwith (main thread only)

// [START hostloop_ocaml_runtime]
struct RuntimeBox {
  HostExecutor* executor;
};

void finalize_runtime(value v) {
  auto* box = static_cast<RuntimeBox*>(Data_custom_val(v));
  tl_in_finalizer = true;
  delete std::exchange(box->executor, nullptr);  // not closed by OCaml: close it now
  tl_in_finalizer = false;
}

struct custom_operations runtime_ops = {
    "pollwake.hostloop.runtime", finalize_runtime, custom_compare_default,
    custom_hash_default, custom_serialize_default, custom_deserialize_default,
    custom_compare_ext_default, custom_fixed_length_default};
// [END hostloop_ocaml_runtime]

struct PromiseBox {
  std::optional<Promise<std::string>>* promise;
};
void finalize_promise(value v) {
  tl_in_finalizer = true;
  delete std::exchange(static_cast<PromiseBox*>(Data_custom_val(v))->promise, nullptr);
  tl_in_finalizer = false;
}
struct custom_operations promise_ops = {
    "pollwake.hostloop.promise", finalize_promise, custom_compare_default,
    custom_hash_default, custom_serialize_default, custom_deserialize_default,
    custom_compare_ext_default, custom_fixed_length_default};

struct ResolverBox {
  Resolver<std::string>* resolver;
};
void finalize_resolver(value v) {
  tl_in_finalizer = true;
  delete std::exchange(static_cast<ResolverBox*>(Data_custom_val(v))->resolver, nullptr);
  tl_in_finalizer = false;
}
struct custom_operations resolver_ops = {
    "pollwake.hostloop.resolver", finalize_resolver, custom_compare_default,
    custom_hash_default, custom_serialize_default, custom_deserialize_default,
    custom_compare_ext_default, custom_fixed_length_default};

void set_error(const char* what) { std::snprintf(g_error, sizeof g_error, "%s", what); }

Resolver<std::string>& resolver_of(value v) {
  return *static_cast<ResolverBox*>(Data_custom_val(v))->resolver;
}

}  // namespace

HostExecutor& runtime_of(value runtime) {
  HostExecutor* ex = static_cast<RuntimeBox*>(Data_custom_val(runtime))->executor;
  if (ex == nullptr) throw std::logic_error("Hostloop: the runtime is closed");
  return *ex;
}

Promise<std::string> take_promise(value promise) {
  auto* slot = static_cast<PromiseBox*>(Data_custom_val(promise))->promise;
  if (slot == nullptr || !slot->has_value()) {
    throw std::logic_error("Hostloop: this promise was already taken by a task");
  }
  Promise<std::string> p = std::move(**slot);
  slot->reset();
  return p;
}

void trace(const std::string& text) {
  std::printf("[%d] %s\n", ++g_step, text.c_str());
  std::fflush(stdout);
}

OcamlRoot::OcamlRoot(value v) : v_(v) { caml_register_generational_global_root(&v_); }
OcamlRoot::~OcamlRoot() { caml_remove_generational_global_root(&v_); }

}  // namespace pollwake::hostloop::ocaml

using pollwake::hostloop::HostExecutor;
using pollwake::hostloop::make_promise;
using pollwake::hostloop::Promise;
using pollwake::hostloop::Resolver;
namespace hl = pollwake::hostloop::ocaml;

extern "C" {

value hl_trace(value text) {
  CAMLparam1(text);
  hl::trace(String_val(text));
  CAMLreturn(Val_unit);
}

// [START hostloop_ocaml_create]
// runtime_create id: a HostExecutor on this (the main) thread whose notify
// hook sends Lwt_unix notification `id`.
value hl_runtime_create(value notification_id) {
  CAMLparam1(notification_id);
  CAMLlocal1(v);
  const intnat id = Long_val(notification_id);
  hl::g_main_thread = std::this_thread::get_id();
  // lwt_unix_send_notification may be called from any thread (it takes
  // Lwt's notification mutex and writes to a pipe), so it can serve as the
  // hook directly; the trace line is printed only for main-thread wakes so
  // the trace stays deterministic.
  auto* ex = new HostExecutor([id] {
    if (std::this_thread::get_id() == hl::g_main_thread) {
      hl::trace("runtime: notify -> lwt_unix_send_notification");
    }
    lwt_unix_send_notification(id);
  });
  v = caml_alloc_custom(&hl::runtime_ops, sizeof(hl::RuntimeBox), 0, 1);
  static_cast<hl::RuntimeBox*>(Data_custom_val(v))->executor = ex;
  CAMLreturn(v);
}
// [END hostloop_ocaml_create]

value hl_run_ready(value runtime) {
  CAMLparam1(runtime);
  long polled = -1;
  try {
    polled = static_cast<long>(hl::runtime_of(runtime).run_ready());
  } catch (const std::exception& e) {
    hl::set_error(e.what());
  }
  if (polled < 0) caml_failwith(hl::g_error);
  CAMLreturn(Val_long(polled));
}

// close: shuts the executor down (pending tasks are dropped; their promises'
// cancel closures run here) and frees it. Idempotent.
value hl_runtime_close(value runtime) {
  CAMLparam1(runtime);
  auto* box = static_cast<hl::RuntimeBox*>(Data_custom_val(runtime));
  delete std::exchange(box->executor, nullptr);
  CAMLreturn(Val_unit);
}

value hl_promise_make(value on_cancel) {
  CAMLparam1(on_cancel);
  CAMLlocal3(pv, rv, pair);
  auto root = std::make_shared<hl::OcamlRoot>(on_cancel);
  auto [promise, resolver] = make_promise<std::string>([root] {
    if (hl::tl_in_finalizer) return;  // finalizers may not call OCaml
    (void)caml_callback_exn(root->get(), Val_unit);
  });
  pv = caml_alloc_custom(&hl::promise_ops, sizeof(hl::PromiseBox), 0, 1);
  static_cast<hl::PromiseBox*>(Data_custom_val(pv))->promise =
      new std::optional<Promise<std::string>>(std::move(promise));
  rv = caml_alloc_custom(&hl::resolver_ops, sizeof(hl::ResolverBox), 0, 1);
  static_cast<hl::ResolverBox*>(Data_custom_val(rv))->resolver =
      new Resolver<std::string>(std::move(resolver));
  pair = caml_alloc_tuple(2);
  Store_field(pair, 0, pv);
  Store_field(pair, 1, rv);
  CAMLreturn(pair);
}

value hl_resolve(value resolver, value text) {
  CAMLparam2(resolver, text);
  const bool settled = hl::resolver_of(resolver).resolve(std::string(String_val(text)));
  CAMLreturn(Val_bool(settled));
}

value hl_reject(value resolver, value text) {
  CAMLparam2(resolver, text);
  const bool settled =
      hl::resolver_of(resolver).reject(absl::AbortedError(std::string(String_val(text))));
  CAMLreturn(Val_bool(settled));
}

}  // extern "C"
