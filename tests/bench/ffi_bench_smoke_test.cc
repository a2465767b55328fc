// tests/bench/ffi_bench_smoke_test.cc: FfiBenchSmokeTest. Runs bench/ffi_bench
// with a tiny iteration count and checks that every FFI benchmark runs and
// reports a positive ns_per_op (the figures themselves mean nothing here).
//
// usage: ffi_bench_smoke_test FFI_BENCH
#include <cstdio>
#include <regex>
#include <string>

#include <gtest/gtest.h>

namespace {

std::string g_bench;

TEST(FfiBenchSmokeTest, EveryBenchmarkReportsNsPerOp) {
  const std::string cmd = "'" + g_bench + "' --benchmark_min_time=0.001 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  ASSERT_EQ(pclose(p), 0) << out;
  for (const char* name :
       {"BM_ffi_poll_ready/direct", "BM_ffi_poll_ready/c_abi", "BM_ffi_waker_clone_drop/direct",
        "BM_ffi_waker_clone_drop/c_abi", "BM_ffi_waker_clone_drop/c_abi_shared"}) {
    const std::regex line(std::string(name) + R"( .* ns_per_op=([0-9.e+-]+))");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(out, m, line)) << name << " missing from:\n" << out;
    EXPECT_GT(std::stod(m[1].str()), 0.0) << name;
  }
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s FFI_BENCH\n", argv[0]);
    return 2;
  }
  g_bench = argv[1];
  return RUN_ALL_TESTS();
}
