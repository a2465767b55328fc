// tests/ffi/plugin_test_util.h: what the two plugin tests share
// (plugin_test: pollwake's C++ plugin; rust_ffi_test: the real async-ffi
// crate's Rust plugin and host). Both load a plugin by path, await it under
// LocalPool, and run the same host programs (//interop/ffi:ffi_host, the C
// executor) as separate processes, checking their output the same way.
//
//   RunCommand            a shell command's output (stderr folded in) and status
//   LoadSymbol<Fn>        a plugin's export, or nullptr and a test failure
//   StoreInto             a LocalPool task that awaits an FfiFuture<uint32_t>
//   HostProgramAwaits     ffi_host awaits plugin_run under block_on and LocalPool,
//                         and sees plugin_fail throw FfiPanicked
//   CExecutorRuns         the C executor awaits plugin_run(a, b) `times` times
//   CExecutorSeesPanicked the C executor reports plugin_fail's panic (exit 3)
//   NamesMissingPlugin    a host program given no plugin says which (exit 2)
//   RunWithPaths          main(): the paths Bazel passes, then RUN_ALL_TESTS
#ifndef POLLWAKE_TESTS_FFI_PLUGIN_TEST_UTIL_H_
#define POLLWAKE_TESTS_FFI_PLUGIN_TEST_UTIL_H_

#include <sys/wait.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "absl/status/statusor.h"
#include "interop/ffi/ffi_future.h"
#include "interop/ffi/plugin_loader.h"
#include "poll/poll.h"

namespace pollwake::ffi::testing {

// Runs `cmd` through the shell; returns stdout and stderr together.
inline std::string RunCommand(const std::string& cmd, int* status) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) {
    *status = -1;
    return "";
  }
  std::string out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  *status = pclose(p);
  return out;
}

inline std::string Quote(const std::string& s) { return "'" + s + "'"; }

// The export `name` of the plugin at `path`; a test failure and nullptr if
// the plugin or the symbol is missing.
template <class Fn>
Fn LoadSymbol(const std::string& path, const char* name) {
  absl::StatusOr<Plugin> plugin = Plugin::open(path);
  if (!plugin.ok()) {
    ADD_FAILURE() << plugin.status();
    return nullptr;
  }
  absl::StatusOr<Fn> fn = plugin->symbol<Fn>(name);
  if (!fn.ok()) {
    ADD_FAILURE() << fn.status();
    return nullptr;
  }
  return *fn;
}

// Awaits an FfiFuture and stores its output (a LocalPool task).
struct StoreInto {
  using Output = Unit;
  FfiFuture<uint32_t> future;
  uint32_t* out;
  Poll<Unit> poll(Context& cx) {
    Poll<uint32_t> p = future.poll(cx);
    if (p.is_pending()) return Pending;
    *out = p.value();
    return Ready();
  }
};

inline ::testing::AssertionResult Contains(const std::string& out, const std::string& what) {
  if (out.find(what) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "no \"" << what << "\" in the output:\n" << out;
}

// `host PLUGIN a b` exits 0, awaiting plugin_run(a, b) = a + b under
// block_on and under LocalPool, and plugin_fail(a, b) throwing FfiPanicked.
inline ::testing::AssertionResult HostProgramAwaits(const std::string& host,
                                                    const std::string& plugin, uint32_t a,
                                                    uint32_t b) {
  int status = -1;
  const std::string out = RunCommand(Quote(host) + " " + Quote(plugin) + " " +
                                         std::to_string(a) + " " + std::to_string(b),
                                     &status);
  if (status != 0) return ::testing::AssertionFailure() << "exit status " << status << ":\n" << out;
  const std::string call = "(" + std::to_string(a) + ", " + std::to_string(b) + ")";
  const std::string sum = std::to_string(a + b);
  for (const std::string& line : {"block_on: plugin_run" + call + " = " + sum,
                                  "LocalPool: plugin_run" + call + " = " + sum,
                                  "block_on: plugin_fail" + call + " threw FfiPanicked"}) {
    ::testing::AssertionResult r = Contains(out, line);
    if (!r) return r;
  }
  return ::testing::AssertionSuccess();
}

// `c_executor PLUGIN plugin_run a b times` exits 0 and prints the result
// line exactly `times` times.
inline ::testing::AssertionResult CExecutorRuns(const std::string& c_executor,
                                                const std::string& plugin, uint32_t a, uint32_t b,
                                                int times) {
  int status = -1;
  const std::string out =
      RunCommand(Quote(c_executor) + " " + Quote(plugin) + " plugin_run " + std::to_string(a) +
                     " " + std::to_string(b) + " " + std::to_string(times),
                 &status);
  if (status != 0) return ::testing::AssertionFailure() << "exit status " << status << ":\n" << out;
  const std::string line = "plugin_run(" + std::to_string(a) + ", " + std::to_string(b) +
                           ") = " + std::to_string(a + b) + "\n";
  int lines = 0;
  for (size_t at = 0; (at = out.find(line, at)) != std::string::npos; ++at) ++lines;
  if (lines != times) {
    return ::testing::AssertionFailure() << lines << " result lines, not " << times << ":\n" << out;
  }
  return ::testing::AssertionSuccess();
}

// `c_executor PLUGIN plugin_fail a b` exits 3 and says the future panicked.
inline ::testing::AssertionResult CExecutorSeesPanicked(const std::string& c_executor,
                                                        const std::string& plugin, uint32_t a,
                                                        uint32_t b) {
  int status = -1;
  const std::string out = RunCommand(Quote(c_executor) + " " + Quote(plugin) + " plugin_fail " +
                                         std::to_string(a) + " " + std::to_string(b),
                                     &status);
  if (WEXITSTATUS(status) != 3) {
    return ::testing::AssertionFailure() << "exit status " << WEXITSTATUS(status) << ", not 3:\n"
                                         << out;
  }
  return Contains(out, "plugin_fail(" + std::to_string(a) + ", " + std::to_string(b) +
                           ") panicked");
}

// `program /nonexistent/plugin.so ARGS` exits 2 and names the path.
inline ::testing::AssertionResult NamesMissingPlugin(const std::string& program,
                                                     const std::string& args = "") {
  int status = -1;
  const std::string out =
      RunCommand(Quote(program) + " /nonexistent/plugin.so" + (args.empty() ? "" : " " + args),
                 &status);
  if (WEXITSTATUS(status) != 2) {
    return ::testing::AssertionFailure() << "exit status " << WEXITSTATUS(status) << ", not 2:\n"
                                         << out;
  }
  return Contains(out, "cannot load plugin '/nonexistent/plugin.so'");
}

// main(): stores the command-line paths (in the order BUILD passes them)
// into `paths`, or prints the usage and returns 2; then runs the tests.
inline int RunWithPaths(int argc, char** argv,
                        const std::vector<std::pair<const char*, std::string*>>& paths) {
  ::testing::InitGoogleTest(&argc, argv);
  if (static_cast<size_t>(argc) != paths.size() + 1) {
    std::string usage;
    for (const auto& [name, _] : paths) usage += std::string(" ") + name;
    std::fprintf(stderr, "usage: %s%s\n", argv[0], usage.c_str());
    return 2;
  }
  for (size_t i = 0; i < paths.size(); ++i) *paths[i].second = argv[i + 1];
  return RUN_ALL_TESTS();
}

}  // namespace pollwake::ffi::testing

#endif  // POLLWAKE_TESTS_FFI_PLUGIN_TEST_UTIL_H_
