// interop/hostloop/ocaml/hostloop_stubs.cc: the C stubs behind hostloop.ml
// (hostloop_stubs.h says what they model and states the threading rule).
//
// Two rules of OCaml's C interface shape this file:
//   * An OCaml exception raised from C (caml_failwith) unwinds with longjmp,
//     which skips C++ destructors. So every stub runs its C++ work inside
//     `guarded`, which catches every C++ exception and copies its message
//     into a buffer; the stub raises only after that, when every C++ object
//     of its own is gone.
//   * A GC finalizer may not call OCaml and should not run arbitrary code
//     (a destructor that wakes a task would enter the executor from inside
//     the GC). So the finalizers here only hand the C++ object to the main
//     thread's queue; the next drain destroys it.
//
// The main-thread queue: work that needs the OCaml runtime but arises on
// another thread, in a finalizer or in the middle of run_ready (an OCaml
// cancel closure) waits in one process-wide queue. A stub that drains before
// it returns (run_ready, close) marks its extent with DrainScope; work queued
// inside such a scope on the main thread needs no signal; any other queueing
// writes the eventfd of every open runtime, so Lwt calls run_ready soon.
#include "interop/hostloop/ocaml/hostloop_stubs.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

extern "C" {
#include <caml/alloc.h>
#include <caml/callback.h>
#include <caml/custom.h>
#include <caml/fail.h>
#include <caml/memory.h>
#include <caml/mlvalues.h>
#include <caml/printexc.h>
}

namespace pollwake::hostloop::ocaml {

namespace {

// The OCaml main thread, set once by hl_init (hostloop.ml's initialisation,
// which runs on the main thread). A default id matches no thread.
// ORDERING: release/acquire: a thread that sees the id also sees nothing
// else that matters (it is the only datum); acquire keeps the pairing simple.
std::atomic<std::thread::id> g_main_thread{};

int g_step = 0;  // trace numbering (main thread only)
std::atomic<long> g_live_roots{0};

// Set while a stub that drains before returning is on the main thread's
// stack (run_ready, close).
thread_local int tl_drain_scope = 0;
thread_local char tl_error[512];  // a message waiting for caml_failwith

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "Hostloop: %s; aborting\n", what);
  std::abort();
}

// Writes one to an eventfd. Any thread; touches nothing of OCaml's.
void signal_fd(int fd) noexcept {
  const std::uint64_t one = 1;
  for (;;) {
    if (::write(fd, &one, sizeof one) == static_cast<ssize_t>(sizeof one)) return;
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return;  // the counter is saturated: already readable
    // EBADF and friends: the channel is gone while an executor is live (a
    // bug); continuing would lose this wakeup and hang the task silently.
    std::fprintf(stderr, "Hostloop: writing the notification eventfd failed: %s; aborting\n",
                 std::strerror(errno));
    std::abort();
  }
}

// The main-thread queue, and the eventfds of the open runtimes. Never
// destroyed: work may be queued until the process exits.
struct MainQueue {
  std::mutex mu;
  std::deque<std::function<void()>> items;  // guarded by mu
  std::vector<int> fds;                     // guarded by mu
};
MainQueue& main_queue() {
  static MainQueue* q = new MainQueue;
  return *q;
}

// Runs the queued work, one item at a time (an item may queue more, or call
// OCaml, which may run finalizers that queue more). Main thread only.
void drain_main_queue() {
  MainQueue& q = main_queue();
  for (;;) {
    std::function<void()> fn;
    {
      std::lock_guard<std::mutex> lock(q.mu);
      if (q.items.empty()) return;
      fn = std::move(q.items.front());
      q.items.pop_front();
    }
    try {
      fn();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "Hostloop: queued main-thread work threw: %s\n", e.what());
    } catch (...) {
      std::fputs("Hostloop: queued main-thread work threw a non-std::exception\n", stderr);
    }
  }
}

struct DrainScope {
  DrainScope() { ++tl_drain_scope; }
  ~DrainScope() { --tl_drain_scope; }
};

// A runtime: the executor and the eventfd its notify hook writes.
struct Runtime {
  int fd = -1;
  std::unique_ptr<HostExecutor> executor;
  // True while hl_run_ready reads the eventfd, drains and runs this
  // runtime's pass (main thread only). Two calls are refused meanwhile:
  //  * run_ready again (from a task's OCaml closure), before it reads the
  //    eventfd: that read would consume a notification sent during the pass
  //    (`notified` stays set) and no later wake would write the eventfd
  //    again, a lost wakeup for good;
  //  * shutdown/close (from a task, or from queued work the drain runs, e.g.
  //    an on_cancel closure): freeing the runtime there would leave the
  //    running hl_run_ready with a dangling Runtime.
  bool in_pass = false;
};

// Shuts the executor down (its tasks' futures are destroyed here), then
// closes the channel: after shutdown() no notify call is running or will
// start, so no write can reach a closed (or reused) descriptor.
void close_runtime(Runtime* rt) {
  rt->executor.reset();
  {
    MainQueue& q = main_queue();
    std::lock_guard<std::mutex> lock(q.mu);
    q.fds.erase(std::remove(q.fds.begin(), q.fds.end(), rt->fd), q.fds.end());
  }
  ::close(rt->fd);
  delete rt;
}

// [START hostloop_ocaml_runtime]
struct RuntimeBox {
  Runtime* rt;
};

// Finalizers only queue (the class comment says why).
void finalize_runtime(value v) {
  if (Runtime* rt = std::exchange(static_cast<RuntimeBox*>(Data_custom_val(v))->rt, nullptr)) {
    defer_to_main([rt] { close_runtime(rt); });  // not closed by OCaml: close it there
  }
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
  if (auto* p = std::exchange(static_cast<PromiseBox*>(Data_custom_val(v))->promise, nullptr)) {
    defer_to_main([p] { delete p; });  // may run the cancel hook: not inside the GC
  }
}
struct custom_operations promise_ops = {
    "pollwake.hostloop.promise", finalize_promise, custom_compare_default,
    custom_hash_default, custom_serialize_default, custom_deserialize_default,
    custom_compare_ext_default, custom_fixed_length_default};

struct ResolverBox {
  Resolver<std::string>* resolver;
};
void finalize_resolver(value v) {
  if (auto* r = std::exchange(static_cast<ResolverBox*>(Data_custom_val(v))->resolver, nullptr)) {
    defer_to_main([r] { delete r; });  // unsettled: rejects, i.e. wakes a task
  }
}
struct custom_operations resolver_ops = {
    "pollwake.hostloop.resolver", finalize_resolver, custom_compare_default,
    custom_hash_default, custom_serialize_default, custom_deserialize_default,
    custom_compare_ext_default, custom_fixed_length_default};

Runtime& runtime_box(value v) {
  Runtime* rt = static_cast<RuntimeBox*>(Data_custom_val(v))->rt;
  if (rt == nullptr) throw std::logic_error("Hostloop: the runtime is closed");
  return *rt;
}

Resolver<std::string>& resolver_of(value v) {
  auto* r = static_cast<ResolverBox*>(Data_custom_val(v))->resolver;
  if (r == nullptr) throw std::logic_error("Hostloop: the resolver is gone");
  return *r;
}

// Runs a stub's C++ work. Returns false, with the message in tl_error, if it
// threw or if the calling thread is not the main thread; the stub then
// raises Failure (after `body` and its objects are gone).
template <class F>
bool guarded(const char* stub, F&& body) noexcept {
  try {
    if (!on_main_thread()) {
      throw std::logic_error(std::string(stub) +
                             ": called off the OCaml main thread (see hostloop.ml)");
    }
    body();
    return true;
  } catch (const std::exception& e) {
    std::snprintf(tl_error, sizeof tl_error, "%s", e.what());
  } catch (...) {
    std::snprintf(tl_error, sizeof tl_error, "%s: a non-std::exception was thrown", stub);
  }
  return false;
}

// Calls an OCaml cancel closure; an exception it raises is reported, not
// propagated (there is no OCaml caller to give it to). Main thread.
void call_cancel_closure(const OcamlRoot& closure) {
  value r = caml_callback_exn(closure.get(), Val_unit);
  if (Is_exception_result(r)) {
    char* text = caml_format_exception(Extract_exception(r));
    std::fprintf(stderr, "Hostloop: an on_cancel closure raised %s\n", text);
    caml_stat_free(text);
  }
}

}  // namespace

bool run_guarded(const char* stub, const std::function<void()>& body) noexcept {
  return guarded(stub, body);
}

const char* stub_error() noexcept { return tl_error; }

bool on_main_thread() noexcept {
  // ORDERING: acquire, pairing with hl_init's release store (see g_main_thread).
  return g_main_thread.load(std::memory_order_acquire) == std::this_thread::get_id();
}

void defer_to_main(std::function<void()> fn) noexcept {
  try {
    MainQueue& q = main_queue();
    std::lock_guard<std::mutex> lock(q.mu);
    q.items.push_back(std::move(fn));
    // Inside a draining stub on the main thread the stub drains it before it
    // returns; anywhere else the main thread must be told.
    if (tl_drain_scope == 0 || !on_main_thread()) {
      for (int fd : q.fds) signal_fd(fd);  // under mu: close_runtime cannot close it meanwhile
    }
  } catch (...) {
    die("cannot queue work for the main thread (out of memory)");
  }
}

HostExecutor& runtime_of(value runtime) { return *runtime_box(runtime).executor; }

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
  if (!on_main_thread()) die("trace called off the OCaml main thread");
  std::printf("[%d] %s\n", ++g_step, text.c_str());
  std::fflush(stdout);
}

OcamlRoot::OcamlRoot(value v) {
  if (!on_main_thread()) throw std::logic_error("OcamlRoot: created off the OCaml main thread");
  cell_ = new value(v);
  caml_register_generational_global_root(cell_);
  // ORDERING: relaxed; a statistics counter (Hostloop.live_roots).
  g_live_roots.fetch_add(1, std::memory_order_relaxed);
}

OcamlRoot::~OcamlRoot() {
  auto remove = [](value* cell) {
    caml_remove_generational_global_root(cell);
    delete cell;
    // ORDERING: relaxed; a statistics counter.
    g_live_roots.fetch_sub(1, std::memory_order_relaxed);
  };
  if (on_main_thread()) {
    remove(cell_);
  } else {
    defer_to_main([cell = cell_, remove] { remove(cell); });
  }
}

}  // namespace pollwake::hostloop::ocaml

using pollwake::hostloop::HostExecutor;
using pollwake::hostloop::make_promise;
using pollwake::hostloop::Promise;
using pollwake::hostloop::Resolver;
namespace hl = pollwake::hostloop::ocaml;

extern "C" {

// init (): records the calling thread as the OCaml main thread. hostloop.ml
// calls it while the module initialises. Raises Failure if another thread
// already claimed it.
value hl_init(value unit) {
  CAMLparam1(unit);
  std::thread::id expected{};
  // ORDERING: release on success, pairing with on_main_thread()'s acquire;
  // acquire on failure, to read the id already stored.
  if (!hl::g_main_thread.compare_exchange_strong(expected, std::this_thread::get_id(),
                                                 std::memory_order_acq_rel,
                                                 std::memory_order_acquire) &&
      expected != std::this_thread::get_id()) {
    caml_failwith("Hostloop.init: the module was initialised on another thread");
  }
  CAMLreturn(Val_unit);
}

value hl_trace(value text) {
  CAMLparam1(text);
  if (!hl::guarded("Hostloop.trace", [&] { hl::trace(String_val(text)); })) {
    caml_failwith(hl::tl_error);
  }
  CAMLreturn(Val_unit);
}

// [START hostloop_ocaml_create]
// runtime_create (): a HostExecutor on this (the main) thread whose notify
// hook writes the runtime's own eventfd; hostloop.ml watches that
// descriptor with Lwt_engine.on_readable and calls run_ready when it fires.
value hl_runtime_create(value unit) {
  CAMLparam1(unit);
  CAMLlocal1(v);
  hl::Runtime* rt = nullptr;
  const bool ok = hl::guarded("Hostloop.create", [&] {
    const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
    auto owned = std::make_unique<hl::Runtime>();
    owned->fd = fd;
    // The hook may run on any thread: a write(2), nothing of OCaml's. The
    // trace line is printed only for main-thread wakes, so the trace stays
    // deterministic.
    owned->executor = std::make_unique<HostExecutor>([fd] {
      if (hl::on_main_thread()) hl::trace("runtime: notify -> writes the runtime's eventfd");
      hl::signal_fd(fd);
    });
    {
      hl::MainQueue& q = hl::main_queue();
      std::lock_guard<std::mutex> lock(q.mu);
      q.fds.push_back(fd);
      if (!q.items.empty()) hl::signal_fd(fd);  // work queued while no runtime was open
    }
    rt = owned.release();
  });
  if (!ok) caml_failwith(hl::tl_error);
  v = caml_alloc_custom(&hl::runtime_ops, sizeof(hl::RuntimeBox), 0, 1);
  static_cast<hl::RuntimeBox*>(Data_custom_val(v))->rt = rt;
  CAMLreturn(v);
}
// [END hostloop_ocaml_create]

// runtime_fd rt: the eventfd (a Unix.file_descr) that Lwt watches.
value hl_runtime_fd(value runtime) {
  CAMLparam1(runtime);
  int fd = -1;
  if (!hl::guarded("Hostloop.runtime_fd", [&] { fd = hl::runtime_box(runtime).fd; })) {
    caml_failwith(hl::tl_error);
  }
  CAMLreturn(Val_int(fd));
}

// [START hostloop_ocaml_run_ready]
// run_ready rt: the drain. Empties the eventfd first (a notify after this
// read makes it readable again, so none is lost), runs the queued
// main-thread work, one pass of the executor, then the work that pass
// queued (cancel closures of promises its tasks dropped).
value hl_run_ready(value runtime) {
  CAMLparam1(runtime);
  long polled = -1;
  const bool ok = hl::guarded("Hostloop.run_ready", [&] {
    hl::Runtime& rt = hl::runtime_box(runtime);
    if (rt.in_pass) {
      throw std::logic_error("Hostloop.run_ready: called from inside one of the runtime's tasks");
    }
    hl::DrainScope scope;
    {
      struct PassScope {
        bool& flag;
        explicit PassScope(bool& f) : flag(f) { flag = true; }
        ~PassScope() { flag = false; }
      } pass(rt.in_pass);
      std::uint64_t count;
      while (::read(rt.fd, &count, sizeof count) < 0 && errno == EINTR) {
      }
      hl::drain_main_queue();
      polled = static_cast<long>(rt.executor->run_ready());
    }
    // Outside the pass: this work may close the runtime (`rt` is not used
    // after it).
    hl::drain_main_queue();
  });
  if (!ok) caml_failwith(hl::tl_error);
  CAMLreturn(Val_long(polled));
}
// [END hostloop_ocaml_run_ready]

// shutdown: shuts the executor down (pending tasks are dropped; their
// promises' cancel closures run here, after it). The eventfd stays open
// until close. Idempotent. From inside a task (an OCaml closure a task
// called) it raises Failure: the task's own frame would be destroyed.
value hl_runtime_shutdown(value runtime) {
  CAMLparam1(runtime);
  const bool ok = hl::guarded("Hostloop.close", [&] {
    hl::DrainScope scope;
    if (hl::Runtime* rt = static_cast<hl::RuntimeBox*>(Data_custom_val(runtime))->rt) {
      if (rt->in_pass) throw std::logic_error("Hostloop.close: called during the runtime's run_ready");
      rt->executor->shutdown();  // throws std::logic_error inside a task
    }
    hl::drain_main_queue();
  });
  if (!ok) caml_failwith(hl::tl_error);
  CAMLreturn(Val_unit);
}

// close: after shutdown (hostloop.ml stops watching the descriptor in
// between), closes the eventfd and frees the runtime. Idempotent.
value hl_runtime_close(value runtime) {
  CAMLparam1(runtime);
  const bool ok = hl::guarded("Hostloop.close", [&] {
    hl::DrainScope scope;
    auto* box = static_cast<hl::RuntimeBox*>(Data_custom_val(runtime));
    if (box->rt != nullptr) {
      if (box->rt->in_pass) {
        throw std::logic_error("Hostloop.close: called during the runtime's run_ready");
      }
      box->rt->executor->shutdown();  // a no-op after hl_runtime_shutdown
      hl::close_runtime(std::exchange(box->rt, nullptr));
    }
    hl::drain_main_queue();
  });
  if (!ok) caml_failwith(hl::tl_error);
  CAMLreturn(Val_unit);
}

value hl_promise_make(value on_cancel) {
  CAMLparam1(on_cancel);
  CAMLlocal3(pv, rv, pair);
  std::optional<Promise<std::string>>* promise_slot = nullptr;
  Resolver<std::string>* resolver_slot = nullptr;
  const bool ok = hl::guarded("Hostloop.make_promise", [&] {
    auto root = std::make_shared<hl::OcamlRoot>(on_cancel);
    // The cancel hook runs where the Promise is dropped, maybe on another
    // thread or in the middle of run_ready: it only queues the OCaml call.
    auto [promise, resolver] = make_promise<std::string>(
        [root] { hl::defer_to_main([root] { hl::call_cancel_closure(*root); }); });
    auto p = std::make_unique<std::optional<Promise<std::string>>>(std::move(promise));
    auto r = std::make_unique<Resolver<std::string>>(std::move(resolver));
    promise_slot = p.release();
    resolver_slot = r.release();
  });
  if (!ok) caml_failwith(hl::tl_error);
  // From here on nothing throws; the custom blocks own the two ends.
  pv = caml_alloc_custom(&hl::promise_ops, sizeof(hl::PromiseBox), 0, 1);
  static_cast<hl::PromiseBox*>(Data_custom_val(pv))->promise = promise_slot;
  rv = caml_alloc_custom(&hl::resolver_ops, sizeof(hl::ResolverBox), 0, 1);
  static_cast<hl::ResolverBox*>(Data_custom_val(rv))->resolver = resolver_slot;
  pair = caml_alloc_tuple(2);
  Store_field(pair, 0, pv);
  Store_field(pair, 1, rv);
  CAMLreturn(pair);
}

value hl_resolve(value resolver, value text) {
  CAMLparam2(resolver, text);
  bool settled = false;
  const bool ok = hl::guarded("Hostloop.resolve", [&] {
    settled = hl::resolver_of(resolver).resolve(std::string(String_val(text)));
  });
  if (!ok) caml_failwith(hl::tl_error);
  CAMLreturn(Val_bool(settled));
}

value hl_reject(value resolver, value text) {
  CAMLparam2(resolver, text);
  bool settled = false;
  const bool ok = hl::guarded("Hostloop.reject", [&] {
    settled = hl::resolver_of(resolver).reject(absl::AbortedError(std::string(String_val(text))));
  });
  if (!ok) caml_failwith(hl::tl_error);
  CAMLreturn(Val_bool(settled));
}

// live_roots (): OCaml values the stubs keep rooted (tests check that
// roots dropped on other threads are removed by the next drain).
value hl_live_roots(value unit) {
  CAMLparam1(unit);
  // ORDERING: relaxed; a statistics snapshot.
  CAMLreturn(Val_long(hl::g_live_roots.load(std::memory_order_relaxed)));
}

}  // extern "C"
