// tests/bench/bench_smoke_test.cc: the benchmark runner and every peer keep
// building and reporting.
//
// What it checks: `bash bench/run.sh --smoke` (tiny iteration counts) runs to
// the end with pollwake's binaries from this test's runfiles, builds the Rust
// peer with cargo (offline, cached in ~/.cache/pollwake-peers) and the Asio
// peer (Bazel, a data dependency), and reports a positive ns_per_op for each
// workload every implementation claims (the list below, written out here so
// that a workload silently dropped from a peer fails the test). It also
// checks that the Markdown table and the plots were written, the FFI
// benchmarks' table and plot included. It checks no
// speed: smoke figures are meaningless.
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace pollwake {
namespace {

const std::vector<std::string> kAllWorkloads = {
    "waker_clone_drop",      "waker_wake_by_ref_arc", "waker_wake_by_ref_static",
    "waker_fn_wake",         "block_on_ready",        "block_on_yield",
    "localpool_spawn_run",   "localpool_yield_pingpong", "threadpool_spawn",
    "cross_thread_wake"};

// What each implementation must report (the peers cover what their library
// has: Asio has no wakers or block_on; tokio has no public waker type). The
// floors (noop, coro-queue, atomic, futex, condvar) are listed too.
std::map<std::string, std::vector<std::string>> Expected() {
  const std::vector<std::string> local = {"localpool_spawn_run", "localpool_yield_pingpong"};
  return {
      {"pollwake", kAllWorkloads},
      {"pollwake (threaded)",
       {"waker_clone_drop", "waker_wake_by_ref_arc", "waker_wake_by_ref_static", "waker_fn_wake",
        "block_on_ready", "block_on_yield", "localpool_spawn_run", "localpool_yield_pingpong"}},
      {"futures",
       {"waker_clone_drop", "waker_wake_by_ref_arc", "block_on_ready", "block_on_yield",
        "localpool_spawn_run", "localpool_yield_pingpong", "threadpool_spawn",
        "cross_thread_wake"}},
      {"futures-lite", {"block_on_ready", "block_on_yield"}},
      {"std", {"waker_clone_drop", "waker_wake_by_ref_arc", "waker_wake_by_ref_static"}},
      {"waker-fn", {"waker_fn_wake"}},
      {"noop", {"waker_clone_drop", "waker_wake_by_ref_static"}},
      {"tokio",
       {"block_on_ready", "block_on_yield", "localpool_spawn_run", "localpool_yield_pingpong",
        "threadpool_spawn", "cross_thread_wake"}},
      {"async-task", local},
      {"async-executor", {"localpool_spawn_run", "localpool_yield_pingpong", "threadpool_spawn"}},
      {"asio", {"localpool_spawn_run", "localpool_yield_pingpong", "threadpool_spawn"}},
      {"asio-hint1", local},
      {"asio-unsafe", local},
      {"coro-queue", local},
      {"atomic", {"cross_thread_wake"}},
      {"futex", {"cross_thread_wake"}},
      {"condvar", {"cross_thread_wake"}},
  };
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The real home directory (Bazel points HOME at a temporary directory), so
// that cargo's output is cached across runs.
std::string RealHome() {
  const passwd* pw = getpwuid(getuid());
  return pw != nullptr && pw->pw_dir != nullptr ? pw->pw_dir : "/tmp";
}

TEST(BenchSmokeTest, PeersBuildAndReportEveryWorkload) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  const char* tmp = std::getenv("TEST_TMPDIR");
  ASSERT_NE(srcdir, nullptr);
  ASSERT_NE(workspace, nullptr);
  ASSERT_NE(tmp, nullptr);
  const std::string root = std::string(srcdir) + "/" + workspace;
  const std::string out = std::string(tmp) + "/bench";
  const std::string log = out + "/run.log";
  const std::string cmd = "mkdir -p '" + out + "' && POLLWAKE_PEERS_CACHE='" + RealHome() +
                          "/.cache/pollwake-peers' bash '" + root +
                          "/bench/run.sh' --smoke --no-deps --prebuilt '" + root + "' --out '" +
                          out + "/results' --docs '" + out + "' > '" + log + "' 2>&1";
  const int status = std::system(cmd.c_str());
  ASSERT_EQ(status, 0) << "bench/run.sh --smoke failed; its output:\n" << ReadFile(log);

  // summary.tsv: implementation <TAB> workload <TAB> ns_per_op.
  std::map<std::pair<std::string, std::string>, double> got;
  std::ifstream tsv(out + "/summary.tsv");
  ASSERT_TRUE(tsv.good()) << "no summary.tsv; runner output:\n" << ReadFile(log);
  std::string line;
  while (std::getline(tsv, line)) {
    const auto a = line.find('\t');
    const auto b = line.find('\t', a + 1);
    ASSERT_NE(b, std::string::npos) << "bad line: " << line;
    got[{line.substr(0, a), line.substr(a + 1, b - a - 1)}] = std::stod(line.substr(b + 1));
  }
  for (const auto& [impl, workloads] : Expected()) {
    for (const auto& w : workloads) {
      auto it = got.find({impl, w});
      ASSERT_NE(it, got.end()) << impl << " did not report " << w;
      EXPECT_GT(it->second, 0.0) << impl << " / " << w;
    }
  }

  // The echo race: every server answered the load generator.
  const std::string echo = ReadFile(out + "/echo.md");
  for (const char* server : {"pollwake_one_thread", "pollwake_pool", "tokio_current_thread",
                             "tokio_multi_thread", "asio_one_thread", "asio_one_thread_unsafe",
                             "asio_one_thread_nothreads", "asio_pool"}) {
    EXPECT_NE(echo.find(std::string("| ") + server + " |"), std::string::npos)
        << server << " missing from echo.md:\n" << echo;
  }
  // The renderer's statistics (the sign test, the interval) against values
  // worked out by hand.
  EXPECT_EQ(std::system(("/usr/bin/python3 '" + root + "/bench/echo_render.py' --self-test").c_str()), 0);
  // The smoke race runs two rounds, so echo_render.py pairs them: pollwake's
  // one-thread server against each one-thread peer, its pool against each pool.
  for (const char* pair : {"pollwake_one_thread / tokio_current_thread", "pollwake_one_thread / asio_one_thread",
                           "pollwake_one_thread / asio_one_thread_unsafe",
                           "pollwake_one_thread / asio_one_thread_nothreads",
                           "pollwake_pool / tokio_multi_thread", "pollwake_pool / asio_pool"}) {
    EXPECT_NE(echo.find(std::string("| ") + pair + " | 2 |"), std::string::npos)
        << pair << " not paired in echo.md:\n" << echo;
  }

  const std::string md = ReadFile(out + "/results.md");
  for (const auto& w : kAllWorkloads) EXPECT_NE(md.find("| " + w + " |"), std::string::npos) << w;
  for (const char* section : {"## Paired ratios", "## Targets", "## Floors", "## Allocations per operation"}) {
    EXPECT_NE(md.find(section), std::string::npos) << section;
  }
  // The FFI benchmarks (bench/ffi_bench.cc; its async-ffi peer runs where
  // the crate's sources are found, which the runfiles do not provide).
  EXPECT_NE(md.find("## The C ABI (interop/ffi) beside the async-ffi crate"), std::string::npos);
  for (const char* b : {"BM_ffi_poll_ready/direct", "BM_ffi_poll_ready/c_abi",
                        "BM_ffi_waker_clone_drop/direct", "BM_ffi_waker_clone_drop/c_abi",
                        "BM_ffi_waker_clone_drop/c_abi_shared"}) {
    EXPECT_NE(md.find(std::string("| ") + b + " |"), std::string::npos) << b;
  }
  for (const char* png : {"workloads.png", "ratios.png", "wakers.png", "park.png", "pools.png",
                          "variants.png", "ffi.png"}) {
    std::ifstream f(out + "/" + png, std::ios::binary | std::ios::ate);
    ASSERT_TRUE(f.good()) << png << " was not written";
    EXPECT_GT(static_cast<long>(f.tellg()), 1000) << png;
  }
}

}  // namespace
}  // namespace pollwake
