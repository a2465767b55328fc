// interop/ffi/host/host.cc: a host that loads a plugin by path and awaits the
// async functions it exports through the async-ffi crate's C ABI, under
// pollwake's block_on and under a LocalPool.
//
//   ffi_host PLUGIN [A B]
//
// prints, for A=20 B=22 (the defaults):
//   block_on: plugin_run(20, 22) = 42
//   LocalPool: plugin_run(20, 22) = 42
//   block_on: plugin_fail(20, 22) threw FfiPanicked
// Exit status 2 names a missing plugin or symbol; 1 any other failure.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "executor/block_on.h"
#include "executor/local_pool.h"
#include "interop/ffi/async_ffi.h"
#include "interop/ffi/ffi_future.h"
#include "interop/ffi/plugin_loader.h"

namespace {

using pollwake::ffi::FfiFuture;
using PluginFn = FfiFuture_u32 (*)(uint32_t, uint32_t);

int run(const std::string& path, uint32_t a, uint32_t b) {
  absl::StatusOr<pollwake::ffi::Plugin> plugin = pollwake::ffi::Plugin::open(path);
  if (!plugin.ok()) {
    std::fprintf(stderr, "ffi_host: %s\n", plugin.status().ToString().c_str());
    return 2;
  }
  absl::StatusOr<PluginFn> run_fn = plugin->symbol<PluginFn>("plugin_run");
  absl::StatusOr<PluginFn> fail_fn = plugin->symbol<PluginFn>("plugin_fail");
  for (const auto* fn : {&run_fn, &fail_fn}) {
    if (!fn->ok()) {
      std::fprintf(stderr, "ffi_host: %s\n", fn->status().ToString().c_str());
      return 2;
    }
  }

  // [START host_await]
  // Wrap once, right at the boundary: from here on it is a pollwake Future.
  uint32_t sum = pollwake::block_on(FfiFuture<uint32_t>::from_raw((*run_fn)(a, b)));
  std::printf("block_on: plugin_run(%u, %u) = %u\n", a, b, sum);

  pollwake::LocalPool pool;
  uint32_t pooled = pool.run_until(FfiFuture<uint32_t>::from_raw((*run_fn)(a, b)));
  std::printf("LocalPool: plugin_run(%u, %u) = %u\n", a, b, pooled);
  // [END host_await]

  try {
    pollwake::block_on(FfiFuture<uint32_t>::from_raw((*fail_fn)(a, b)));
    std::printf("block_on: plugin_fail(%u, %u) returned\n", a, b);
    return 1;
  } catch (const pollwake::ffi::FfiPanicked&) {
    std::printf("block_on: plugin_fail(%u, %u) threw FfiPanicked\n", a, b);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && argc != 4) {
    std::fprintf(stderr, "usage: %s PLUGIN [A B]\n", argv[0]);
    return 2;
  }
  const uint32_t a = argc == 4 ? static_cast<uint32_t>(std::strtoul(argv[2], nullptr, 10)) : 20;
  const uint32_t b = argc == 4 ? static_cast<uint32_t>(std::strtoul(argv[3], nullptr, 10)) : 22;
  try {
    return run(argv[1], a, b);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ffi_host: %s\n", e.what());
    return 1;
  }
}
