// tests/ffi/rust_ffi_test.cc: pollwake's C ABI against the real async-ffi
// crate (0.5.1, unmodified), in both directions, in one process.
//
//   * The Rust plugin (rust/src/lib.rs: `async { .. }.into_ffi()`) awaited by
//     pollwake under block_on and LocalPool, by the C++ host program and by
//     the C executor; its panic arrives as Panicked and becomes FfiPanicked;
//     rustc's layout of the crate's types equals async_ffi.h's.
//   * The Rust host (rust/src/bin/rust_ffi_host.rs: the crate and
//     futures::executor) awaits pollwake's C++ plugin; the C++ exception
//     arrives as the crate's Panicked (its poll panics).
//   * Every plugin_run completes from a wake on another thread (a Rust
//     thread waking a pollwake waker, a C++ thread waking a Rust or C
//     waker), repeated; a lost wake fails through a watchdog or deadline.
//
// Arguments (from BUILD): RUST_PLUGIN RUST_HOST CPP_PLUGIN CPP_HOST C_EXECUTOR.
//
// Sanitizers: the Rust parts are built by cargo without them. Under ASan the
// Rust plugin still loads into the instrumented test (its allocations go
// through the intercepted malloc); the Rust host loads the instrumented C++
// plugin with g++'s libasan and libstdc++ preloaded (see
// RustHostAwaitsTheCppPlugin). Under TSan everything
// Rust is skipped: a value handed between threads by Rust's own
// (uninstrumented) synchronization looks like a race to TSan.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "executor/block_on.h"
#include "executor/local_pool.h"
#include "interop/ffi/ffi_future.h"
#include "interop/ffi/plugin_loader.h"
#include "tests/ffi/ffi_test_util.h"
#include "tests/ffi/plugin_test_util.h"

#if defined(__SANITIZE_ADDRESS__)
#define POLLWAKE_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define POLLWAKE_TSAN 1
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POLLWAKE_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define POLLWAKE_TSAN 1
#endif
#endif

extern "C" size_t pollwake_ffi_c_layout(int which);

namespace pollwake::ffi {
namespace {

using ::testing::HasSubstr;
using PluginFn = FfiFuture_u32 (*)(uint32_t, uint32_t);

std::string g_rust_plugin, g_rust_host, g_cpp_plugin, g_cpp_host, g_c_executor;

// The path of a shared object mapped into this process whose file name
// starts with `prefix` ("" if none). Used under ASan only.
[[maybe_unused]] std::string loaded_library(const std::string& prefix) {
  std::FILE* maps = std::fopen("/proc/self/maps", "r");
  if (maps == nullptr) return "";
  std::string found;
  char line[4096];
  while (found.empty() && std::fgets(line, sizeof line, maps) != nullptr) {
    std::string l(line);
    const size_t path = l.find('/');
    if (path == std::string::npos) continue;
    l = l.substr(path, l.find_last_not_of('\n') + 1 - path);
    const size_t base = l.rfind('/') + 1;
    if (l.compare(base, prefix.size(), prefix) == 0) found = l;
  }
  std::fclose(maps);
  return found;
}

using testing::RunCommand;
using testing::StoreInto;

class RustFfiTest : public ::testing::Test {
 protected:
  void SetUp() override {
#ifdef POLLWAKE_TSAN
    GTEST_SKIP() << "Rust code is not instrumented for ThreadSanitizer";
#endif
    // build_rust_ffi.sh writes a marker instead of the Rust programs when the
    // async-ffi crate's sources are not on this machine (Debian does not
    // package it): a skip that says so, except under CI, where it must be.
    std::string head(64, '\0');
    if (FILE* f = std::fopen(g_rust_plugin.c_str(), "rb")) {
      head.resize(std::fread(head.data(), 1, head.size(), f));
      std::fclose(f);
    }
    if (head.rfind("POLLWAKE_MISSING", 0) == 0) {
      const char* ci = std::getenv("CI");
      if (ci != nullptr && std::string(ci) == "true") {
        FAIL() << "CI=true but the real async-ffi crate is missing: " << head;
      }
      GTEST_SKIP() << head;
    }
  }
  template <class Fn>
  static Fn rust_symbol(const char* name) {
    return testing::LoadSymbol<Fn>(g_rust_plugin, name);
  }
};

TEST_F(RustFfiTest, RustcLaysOutTheCratesTypesAsTheCHeader) {
  auto layout = rust_symbol<size_t (*)(uint32_t)>("plugin_layout");
  ASSERT_NE(layout, nullptr);
  // 0, 1, 11 are private to the crate (see rust/src/lib.rs).
  for (int i : {2, 3, 4, 5, 6, 7, 8, 9, 10}) {
    EXPECT_EQ(layout(i), pollwake_ffi_c_layout(i)) << "item " << i << " (numbered in layout_c.c)";
  }
  EXPECT_EQ(layout(14), size_t{FFI_POLL_READY});
  EXPECT_EQ(layout(12), size_t{FFI_POLL_PENDING});
  EXPECT_EQ(layout(13), size_t{FFI_POLL_PANICKED});
}

TEST_F(RustFfiTest, RustFutureUnderBlockOnIsWokenFromARustThread) {
  auto run = rust_symbol<PluginFn>("plugin_run");
  ASSERT_NE(run, nullptr);
  testing::Watchdog dog("block_on of the Rust plugin_run");
  for (uint32_t i = 0; i < 30; ++i) {
    EXPECT_EQ(block_on(FfiFuture<uint32_t>::from_raw(run(i, 7))), i + 7) << "round " << i;
  }
}

TEST_F(RustFfiTest, ManyRustFuturesUnderOneLocalPool) {
  auto run = rust_symbol<PluginFn>("plugin_run");
  ASSERT_NE(run, nullptr);
  testing::Watchdog dog("LocalPool of the Rust plugin_run");
  std::vector<uint32_t> results(16, 0);
  LocalPool pool;
  for (uint32_t i = 0; i < results.size(); ++i) {
    pool.spawner().spawn_local(StoreInto{FfiFuture<uint32_t>::from_raw(run(i, 100)), &results[i]});
  }
  pool.run();
  for (uint32_t i = 0; i < results.size(); ++i) EXPECT_EQ(results[i], i + 100) << i;
}

TEST_F(RustFfiTest, RustPanicBecomesFfiPanicked) {
  auto fail = rust_symbol<PluginFn>("plugin_fail");
  ASSERT_NE(fail, nullptr);
  ::testing::internal::CaptureStderr();
  EXPECT_THROW(block_on(FfiFuture<uint32_t>::from_raw(fail(3, 4))), FfiPanicked);
  // Rust's panic hook printed the message; the crate caught the unwind.
  EXPECT_THAT(::testing::internal::GetCapturedStderr(), HasSubstr("plugin_fail(3, 4): this future always panics"));
}

TEST_F(RustFfiTest, EveryShippedPayloadCrossesFromRust) {
  auto u64 = rust_symbol<FfiFuture_u64 (*)(uint64_t)>("plugin_ready_u64");
  auto unit = rust_symbol<FfiFuture_unit (*)()>("plugin_ready_unit");
  auto ptr = rust_symbol<FfiFuture_ptr (*)(void*)>("plugin_ready_ptr");
  ASSERT_TRUE(u64 && unit && ptr);
  EXPECT_EQ(block_on(FfiFuture<uint64_t>::from_raw(u64(uint64_t{1} << 60))), uint64_t{1} << 60);
  EXPECT_EQ(block_on(FfiFuture<Unit>::from_raw(unit())), Unit{});
  int x = 0;
  EXPECT_EQ(block_on(FfiFuture<void*>::from_raw(ptr(&x))), &x);
}

TEST_F(RustFfiTest, RustFuturePolledAfterReadyAnswersPanicked) {
  auto u64 = rust_symbol<FfiFuture_u64 (*)(uint64_t)>("plugin_ready_u64");
  ASSERT_NE(u64, nullptr);
  FfiFuture_u64 raw = u64(5);
  testing::CountingFfiWaker* w = testing::CountingFfiWaker::make();
  FfiContext cx = w->context();
  EXPECT_EQ(raw.poll_fn(raw.fut_ptr, &cx).tag, FFI_POLL_READY);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(raw.poll_fn(raw.fut_ptr, &cx).tag, FFI_POLL_PANICKED);  // as pollwake's into_ffi
  EXPECT_THAT(::testing::internal::GetCapturedStderr(), HasSubstr("resumed after completion"));
  raw.drop_fn(raw.fut_ptr);
  w->release();
}

TEST_F(RustFfiTest, CppHostProgramAwaitsTheRustPlugin) {
  EXPECT_TRUE(testing::HostProgramAwaits(g_cpp_host, g_rust_plugin, 30, 12));
}

TEST_F(RustFfiTest, CExecutorAwaitsTheRustPluginRepeatedly) {
  EXPECT_TRUE(testing::CExecutorRuns(g_c_executor, g_rust_plugin, 8, 9, 25));
  EXPECT_TRUE(testing::CExecutorSeesPanicked(g_c_executor, g_rust_plugin, 8, 9));
}

TEST_F(RustFfiTest, RustHostAwaitsTheCppPlugin) {
  std::string preload;
#ifdef POLLWAKE_ASAN
  // The uninstrumented Rust host loads the instrumented C++ plugin only if
  // the ASan runtime comes first: preload the very libasan this test runs
  // on (g++'s), and libstdc++ too, because ASan resolves the real
  // __cxa_throw at startup and the Rust host does not link libstdc++ (without
  // it the plugin's first throw fails ASan's CHECK on real___cxa_throw). The
  // host inherits this test's ASAN_OPTIONS (leaks on).
  const std::string asan = loaded_library("libasan.so");
  const std::string cxx = loaded_library("libstdc++.so");
  if (asan.empty() || cxx.empty()) {
    GTEST_SKIP() << "ASan runtime or libstdc++ is not a shared library here (e.g. clang's static "
                    "runtime): the uninstrumented Rust host cannot load the instrumented plugin";
  }
  preload = "LD_PRELOAD='" + asan + " " + cxx + "' ";
#endif
  int status = -1;
  const std::string out =
      RunCommand(preload + "'" + g_rust_host + "' '" + g_cpp_plugin + "' 25", &status);
  ASSERT_EQ(status, 0) << out;
  EXPECT_THAT(out, HasSubstr("block_on: 25 rounds of plugin_run"));
  EXPECT_THAT(out, HasSubstr("LocalPool: 25 concurrent plugin_run"));
  // The C++ exception: caught by pollwake's poll_fn, crossed as Panicked,
  // and the crate's Future::poll panicked with its own message.
  EXPECT_THAT(out, HasSubstr("this future always throws"));
  EXPECT_THAT(out, HasSubstr("panic hook: FFI future panicked"));
  EXPECT_THAT(out, HasSubstr("plugin_fail: panicked as the crate does"));
}

TEST_F(RustFfiTest, RustHostNamesAMissingPlugin) {
  EXPECT_TRUE(testing::NamesMissingPlugin(g_rust_host, "1"));
}

}  // namespace
}  // namespace pollwake::ffi

int main(int argc, char** argv) {
  namespace f = pollwake::ffi;
  return f::testing::RunWithPaths(argc, argv,
                                  {{"RUST_PLUGIN", &f::g_rust_plugin},
                                   {"RUST_HOST", &f::g_rust_host},
                                   {"CPP_PLUGIN", &f::g_cpp_plugin},
                                   {"CPP_HOST", &f::g_cpp_host},
                                   {"C_EXECUTOR", &f::g_c_executor}});
}
