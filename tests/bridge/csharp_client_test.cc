// tests/bridge/csharp_client_test.cc: CSharpBridgeClientTest.
//
// Compiles tests/bridge/csharp/BridgeClient.cs with Mono's C# compiler (mcs)
// and runs it with mono against the shared library
// //interop/bridge:libpollwake_bridge.so (found through LD_LIBRARY_PATH, as
// P/Invoke's DllImport("pollwake_bridge") looks it up). The client runs many
// concurrent awaited calls and checks each result; it prints
// "BridgeClient: PASS ..." and exits 0, or says what failed. It also checks
// how it copes with calls whose start fails and with a library that breaks
// the header's promises (//tests/bridge:libpwb_misbehaving.so: a done called
// twice, a refusal without its done).
//
// Under --config=asan and --config=tsan this test skips, and says so: the
// library is then built with a sanitizer, and a sanitizer runtime must be
// the first thing a process loads, which mono (not instrumented) does not
// do. The C and C++ clients (the other tests here, the fuzzer's replay,
// examples/13_bridge_session) exercise the same library under both
// sanitizers; this test checks the C# side of the ABI in the default
// configuration. mcs and mono (Debian's mono-mcs, mono-runtime) live
// outside the sandbox, hence tags = ["local"].
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

namespace fs = std::filesystem;

std::vector<std::string> g_args;  // BridgeClient.cs libpollwake_bridge.so libpwb_misbehaving.so

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

std::string RunCommand(const std::string& cmd, int* status) {
  FILE* p = popen(cmd.c_str(), "r");
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

std::string Quote(const std::string& s) { return "'" + s + "'"; }

std::string FindTool(const char* name) {
  for (const char* dir : {"/usr/bin", "/usr/local/bin", "/bin"}) {
    fs::path p = fs::path(dir) / name;
    if (fs::exists(p)) return p.string();
  }
  return "";
}

TEST(CSharpBridgeClientTest, ManyConcurrentAwaitedCallsAllCheckOut) {
  if (kSanitized) {
    GTEST_SKIP() << "mono cannot load a sanitizer-instrumented library; the C# client runs "
                    "in the default configuration";
  }
  ASSERT_EQ(g_args.size(), 3u)
      << "usage: csharp_client_test BridgeClient.cs libpollwake_bridge.so libpwb_misbehaving.so";
  const std::string mcs = FindTool("mcs");
  const std::string mono = FindTool("mono");
  ASSERT_FALSE(mcs.empty() || mono.empty())
      << "mcs or mono not found: install mono-mcs and mono-runtime (bash .ci/deps.sh)";
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = tmp != nullptr ? tmp : fs::temp_directory_path().string();
  const std::string exe = dir + "/BridgeClient.exe";
  int status = -1;
  std::string out = RunCommand(
      Quote(mcs) + " -nologo -out:" + Quote(exe) + " " + Quote(g_args[0]) + " 2>&1", &status);
  ASSERT_EQ(status, 0) << "mcs failed:\n" << out;

  // The libraries' directories, absolute (the runfile paths are relative).
  const std::string lib_dir = fs::absolute(fs::path(g_args[1])).parent_path().string();
  ASSERT_TRUE(fs::exists(lib_dir + "/libpollwake_bridge.so")) << lib_dir;
  const std::string bad_dir = fs::absolute(fs::path(g_args[2])).parent_path().string();
  ASSERT_TRUE(fs::exists(bad_dir + "/libpwb_misbehaving.so")) << bad_dir;
  // HOME: mono reads its per-user config there; Bazel may leave it unset.
  // timeout: the client has its own 60 s watchdog; this one catches a hung mono.
  out = RunCommand("HOME=" + Quote(dir) + " LD_LIBRARY_PATH=" + Quote(lib_dir + ":" + bad_dir) +
                       " timeout 120 " + Quote(mono) + " " + Quote(exe) + " 2>&1",
                   &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("BridgeClient: PASS"), std::string::npos) << out;
}

}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  g_args.assign(argv + 1, argv + argc);
  return RUN_ALL_TESTS();
}
