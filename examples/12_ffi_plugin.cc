// examples/12_ffi_plugin.cc: a future from a plugin: a shared library, built
// on its own, hands the host an async function through a C ABI (the layout of
// Rust's async-ffi crate), and the host awaits it like any other future.
//
//   bash .ci/tour.sh 12        (or: bazel run //examples:12_ffi_plugin)
//
// The Rust program this example rewrites (the host side of async-ffi):
//
//   extern "C" { fn plugin_run(a: u32, b: u32) -> FfiFuture<u32>; }
//   let fut = unsafe { plugin_run(20, 22) };   // nothing runs yet
//   let v = block_on(fut);                     // FfiFuture: Future<Output = u32>
//
// What is new: the future lives in code compiled separately (it could be
// rustc's, or a C compiler's), so neither side may assume the other's layout
// for Future, Waker or Context. Everything crosses as three C structs: the
// future is {fut_ptr, poll_fn, drop_fn}; each poll passes an FfiContext that
// borrows a waker whose first field is a vtable of four C functions; the
// answer comes back as FfiPoll, a tag (0 Ready, 1 Pending, 2 Panicked) and
// the value. pollwake wraps the C struct once, right at the boundary
// (FfiFuture<uint32_t>::from_raw), and from there it is a pollwake Future:
// polled by hand below, then by block_on and by a LocalPool.
//
// The plugin (interop/ffi/plugin/plugin.cc) starts a thread on the first
// poll; the thread wakes the waker 3 ms later, from that thread. The waker
// the plugin keeps is a clone taken through the C vtable: one allocation that
// holds a clone of our waker (the `clone` line below); the plugin's wake
// consumes it (the `wake` line). main prints nothing between poll #1 and the
// wake, so the trace is the same on every run; it waits at most 20 s for the
// wake, then reports a lost wakeup and fails.
//
// The plugin's path: the first argument (the BUILD file passes it), else the
// plugin built beside this program by Bazel.
//
// Each trace line is numbered; `// (n)` marks the statement that prints [n].

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include "examples/trace.h"
#include "executor/block_on.h"
#include "executor/local_pool.h"
#include "interop/ffi/async_ffi.h"
#include "interop/ffi/ffi_future.h"
#include "interop/ffi/plugin_loader.h"
#include "poll/context.h"
#include "poll/poll.h"
#include "poll/waker.h"

using pollwake::Context;
using pollwake::Poll;
using pollwake::Waker;
using pollwake::examples::PrintingTask;
using pollwake::examples::trace;
using pollwake::ffi::FfiFuture;
using pollwake::ffi::FfiPanicked;
using pollwake::ffi::Plugin;

namespace {

constexpr const char* kPluginName = "libpollwake_ffi_plugin.so";

// Without an argument: the plugin in this program's runfiles (bazel run,
// bazel test), else beside it in bazel-bin (the tour).
std::string default_plugin_path() {
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return kPluginName;
  const std::string exe(self, static_cast<size_t>(n));
  const std::string in_runfiles = exe + ".runfiles/pollwake/interop/ffi/" + kPluginName;
  if (access(in_runfiles.c_str(), R_OK) == 0) return in_runfiles;
  return exe.substr(0, exe.rfind('/')) + "/../interop/ffi/" + kPluginName;
}

}  // namespace

int main(int argc, char** argv) {
  // Line-buffered, so the plugin's stderr line lands where it happens.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const std::string path = argc > 1 ? argv[1] : default_plugin_path();

  // [START example_load]
  absl::StatusOr<Plugin> plugin = Plugin::open(path);
  if (!plugin.ok()) {
    std::fprintf(stderr, "12_ffi_plugin: %s\n", plugin.status().ToString().c_str());
    return 2;
  }
  using PluginFn = FfiFuture_u32 (*)(uint32_t, uint32_t);
  absl::StatusOr<PluginFn> run = plugin->symbol<PluginFn>("plugin_run");
  absl::StatusOr<PluginFn> fail = plugin->symbol<PluginFn>("plugin_fail");
  if (!run.ok() || !fail.ok()) {
    std::fprintf(stderr, "12_ffi_plugin: %s\n", (run.ok() ? fail.status() : run.status()).ToString().c_str());
    return 2;
  }
  trace("main: loaded %s; it exports plugin_run and plugin_fail", kPluginName);  // (1)

  // The task outlives the future: the plugin may hold its waker until the
  // future is dropped (which joins the plugin's thread).
  PrintingTask task("plugin_run");
  Waker waker = task.waker();

  FfiFuture_u32 raw = (*run)(20, 22);  // a C struct; nothing has run yet
  trace("main: plugin_run(20, 22) returned %zu bytes: fut_ptr, poll_fn, drop_fn", sizeof raw);  // (2)
  FfiFuture<uint32_t> future = FfiFuture<uint32_t>::from_raw(raw);  // wrap once, here
  // [END example_load]

  Context cx = Context::from_waker(waker);
  trace("main: poll #1 (the plugin clones our waker through the C vtable)");  // (3)
  Poll<uint32_t> p = future.poll(cx);
  if (p.is_ready() || !task.wait_woken(std::chrono::seconds(20))) {
    trace("main: FAILED: poll #1 %s", p.is_ready() ? "was Ready" : "was Pending and no wake came: lost wakeup");
    return 1;
  }
  trace("main: poll #1 was Pending; woken from the plugin's thread");  // (4)
  p = future.poll(cx);
  if (!p.is_ready()) {
    trace("main: FAILED: poll #2 was Pending");
    return 1;
  }
  trace("main: poll #2 -> Ready(%u)", p.value());  // (5)

  // [START example_executors]
  uint32_t sum = pollwake::block_on(FfiFuture<uint32_t>::from_raw((*run)(1, 2)));
  trace("main: block_on(plugin_run(1, 2)) = %u", sum);  // (6)

  pollwake::LocalPool pool;
  sum = pool.run_until(FfiFuture<uint32_t>::from_raw((*run)(3, 4)));
  trace("main: LocalPool::run_until(plugin_run(3, 4)) = %u", sum);  // (7)

  try {
    pollwake::block_on(FfiFuture<uint32_t>::from_raw((*fail)(5, 6)));
  } catch (const FfiPanicked& e) {
    trace("main: plugin_fail(5, 6): caught FfiPanicked: %s", e.what());  // (8)
  }
  // [END example_executors]
  return 0;
}
