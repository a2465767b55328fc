// examples/trace_check.cc: ExampleTraceTest.MatchesExpected.
//
// Runs one example (argv[1]) and compares what it prints with its checked-in
// expected output (argv[2]), line by line. Extra arguments are passed to the
// example. The comparison is exact except for one normalization, applied to
// both sides: text inside `<...>` that looks like an address (0x...) becomes
// `<addr>`, so a trace may print pointers without breaking the test.
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

std::vector<std::string> g_argv;

std::vector<std::string> Lines(const std::string& text) {
  static const std::regex kAddr("0x[0-9a-fA-F]+");
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    out.push_back(std::regex_replace(line, kAddr, "<addr>"));
  }
  return out;
}

std::string Run(const std::vector<std::string>& argv, int* status) {
  std::string cmd;
  for (const auto& a : argv) cmd += "'" + a + "' ";
  cmd += "2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return "";
  std::string out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  *status = pclose(p);
  return out;
}

TEST(ExampleTraceTest, MatchesExpected) {
  ASSERT_GE(g_argv.size(), 3u) << "usage: trace_check EXAMPLE EXPECTED [ARGS...]";
  std::vector<std::string> cmd{g_argv[1]};
  cmd.insert(cmd.end(), g_argv.begin() + 3, g_argv.end());
  int status = -1;
  const std::string actual = Run(cmd, &status);
  EXPECT_EQ(status, 0) << "the example exited with status " << status << "; it printed:\n" << actual;

  std::ifstream f(g_argv[2]);
  ASSERT_TRUE(f) << "cannot read " << g_argv[2];
  std::stringstream expected;
  expected << f.rdbuf();

  const auto want = Lines(expected.str());
  const auto got = Lines(actual);
  for (size_t i = 0; i < want.size() || i < got.size(); ++i) {
    const std::string w = i < want.size() ? want[i] : "<missing line>";
    const std::string g = i < got.size() ? got[i] : "<missing line>";
    ASSERT_EQ(w, g) << "first difference at line " << (i + 1) << " of " << g_argv[2]
                    << "\nwhole output:\n" << actual;
  }
}

}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  g_argv.assign(argv, argv + argc);
  return RUN_ALL_TESTS();
}
