// tests/ffi/plugin_test.cc: the plugin (a shared library built on its own)
// loaded by path and awaited under block_on and LocalPool; the host program
// and the C executor run as separate processes; missing plugin or symbol.
//
// Arguments (from BUILD): PLUGIN HOST C_EXECUTOR.
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <cstdio>
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

namespace pollwake::ffi {
namespace {

using ::testing::HasSubstr;
using PluginFn = FfiFuture_u32 (*)(uint32_t, uint32_t);

std::string g_plugin, g_host, g_c_executor;

using testing::StoreInto;

PluginFn load(const char* name) { return testing::LoadSymbol<PluginFn>(g_plugin, name); }

TEST(FfiPluginTest, RunUnderBlockOnAddsFromAnotherThreadsWake) {
  PluginFn run = load("plugin_run");
  ASSERT_NE(run, nullptr);
  testing::Watchdog dog("block_on of plugin_run");
  for (uint32_t i = 0; i < 20; ++i) {
    EXPECT_EQ(block_on(FfiFuture<uint32_t>::from_raw(run(i, 1000))), i + 1000);
  }
}

TEST(FfiPluginTest, ManyRunsUnderOneLocalPool) {
  PluginFn run = load("plugin_run");
  ASSERT_NE(run, nullptr);
  testing::Watchdog dog("LocalPool of plugin_run");
  std::vector<uint32_t> results(16, 0);
  LocalPool pool;
  for (uint32_t i = 0; i < results.size(); ++i) {
    pool.spawner().spawn_local(StoreInto{FfiFuture<uint32_t>::from_raw(run(i, i)), &results[i]});
  }
  pool.run();
  for (uint32_t i = 0; i < results.size(); ++i) EXPECT_EQ(results[i], 2 * i) << i;
}

// A host waker that runs the task inline: its wake polls the future again
// and drops it, on whatever thread wakes it (for plugin_run, the plugin's
// helper thread, so the future is dropped on the thread it started). Static
// storage: the helper thread may still be returning from wake() when the test
// has seen `done`.
struct InlineRunner {
  FfiWakerBase base{&kTable};  // first
  std::mutex mu;
  FfiFuture_u32 fut{};     // under mu
  std::condition_variable cv;
  bool done = false;       // under mu
  uint8_t tag = 255;       // under mu
  uint32_t value = 0;      // under mu

  // SAFETY: the only base handed out is base, the first member of this
  // standard-layout object.
  static InlineRunner* self(const FfiWakerBase* b) {
    return reinterpret_cast<InlineRunner*>(const_cast<FfiWakerBase*>(b));
  }
  static const FfiWakerBase* clone(const FfiWakerBase* b) { return b; }  // static storage: no count
  static void wake_by_ref(const FfiWakerBase* b) {
    InlineRunner* r = self(b);
    // The test's first poll runs under mu: polls never overlap, and the
    // first poll happens before this one (as an executor guarantees).
    std::lock_guard<std::mutex> lock(r->mu);
    FfiContext cx{&r->base};
    FfiPoll_u32 p = r->fut.poll_fn(r->fut.fut_ptr, &cx);
    if (p.tag == FFI_POLL_PENDING) return;
    r->fut.drop_fn(r->fut.fut_ptr);  // on the waking thread
    r->tag = p.tag;
    r->value = p.ready;
    r->done = true;
    r->cv.notify_all();
  }
  static void wake(const FfiWakerBase* b) { wake_by_ref(b); }
  static void drop(const FfiWakerBase*) {}
  static constexpr FfiWakerVTable kTable{&clone, &wake, &wake_by_ref, &drop};
};
InlineRunner g_inline_runner;

TEST(FfiPluginTest, DropOnTheHelperThreadFromAnInlineWake) {
  PluginFn run = load("plugin_run");
  ASSERT_NE(run, nullptr);
  InlineRunner& r = g_inline_runner;
  std::unique_lock<std::mutex> lock(r.mu);
  r.fut = run(40, 2);
  FfiContext cx{&r.base};
  ASSERT_EQ(r.fut.poll_fn(r.fut.fut_ptr, &cx).tag, FFI_POLL_PENDING);
  ASSERT_TRUE(r.cv.wait_for(lock, testing::kLostWakeDeadline, [&] { return r.done; })) << "lost wake";
  EXPECT_EQ(r.tag, FFI_POLL_READY);
  EXPECT_EQ(r.value, 42u);
}

TEST(FfiPluginTest, FailingExportThrowsFfiPanicked) {
  PluginFn fail = load("plugin_fail");
  ASSERT_NE(fail, nullptr);
  ::testing::internal::CaptureStderr();
  EXPECT_THROW(block_on(FfiFuture<uint32_t>::from_raw(fail(1, 2))), FfiPanicked);
  EXPECT_THAT(::testing::internal::GetCapturedStderr(), HasSubstr("this future always throws"));
}

TEST(FfiPluginTest, MissingPluginNamesThePath) {
  absl::StatusOr<Plugin> plugin = Plugin::open("/nonexistent/libnothing.so");
  ASSERT_FALSE(plugin.ok());
  EXPECT_EQ(plugin.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(plugin.status().message()), HasSubstr("/nonexistent/libnothing.so"));
  EXPECT_FALSE(Plugin::open("").ok());
}

TEST(FfiPluginTest, MissingSymbolNamesTheSymbol) {
  absl::StatusOr<Plugin> plugin = Plugin::open(g_plugin);
  ASSERT_TRUE(plugin.ok()) << plugin.status();
  absl::StatusOr<PluginFn> fn = plugin->symbol<PluginFn>("plugin_missing");
  ASSERT_FALSE(fn.ok());
  EXPECT_THAT(std::string(fn.status().message()), HasSubstr("no symbol 'plugin_missing'"));
  // pollwake's own symbols are not exported by the plugin.
  EXPECT_FALSE(plugin->symbol<void (*)()>("_ZN8pollwake5Waker26clone_returned_null_vtableEv").ok());
}

TEST(FfiPluginTest, HostProgramAwaitsUnderBlockOnAndLocalPool) {
  EXPECT_TRUE(testing::HostProgramAwaits(g_host, g_plugin, 40, 2));
}

TEST(FfiPluginTest, HostProgramNamesAMissingPlugin) {
  EXPECT_TRUE(testing::NamesMissingPlugin(g_host));
}

TEST(FfiPluginTest, CExecutorAwaitsThePluginRepeatedly) {
  EXPECT_TRUE(testing::CExecutorRuns(g_c_executor, g_plugin, 3, 4, 20));
}

TEST(FfiPluginTest, CExecutorSeesPanicked) {
  EXPECT_TRUE(testing::CExecutorSeesPanicked(g_c_executor, g_plugin, 1, 1));
}

TEST(FfiPluginTest, CExecutorNamesAMissingSymbol) {
  int status = -1;
  const std::string out = testing::RunCommand(
      "'" + g_c_executor + "' '" + g_plugin + "' plugin_nothing", &status);
  EXPECT_EQ(WEXITSTATUS(status), 2) << out;
  EXPECT_THAT(out, HasSubstr("has no symbol 'plugin_nothing'"));
}

}  // namespace
}  // namespace pollwake::ffi

int main(int argc, char** argv) {
  return pollwake::ffi::testing::RunWithPaths(argc, argv,
                                              {{"PLUGIN", &pollwake::ffi::g_plugin},
                                               {"HOST", &pollwake::ffi::g_host},
                                               {"C_EXECUTOR", &pollwake::ffi::g_c_executor}});
}
