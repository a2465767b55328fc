// examples/trace_check.cc: ExampleTraceTest.
//
// usage: trace_check EXAMPLE EXPECTED SOURCE [ARGS...]
//
// MatchesExpected runs one example and compares what it prints with its
// checked-in expected output, line by line (ARGS go to the example). The
// comparison is exact except for one normalization, applied to both sides:
// anything that looks like an address (0x...) becomes `<addr>`.
//
// EveryStepIsMarkedInSource checks the house rule that ties a trace to its
// code: every numbered line `[n] ...` of the expected output has a `(n)`
// marker in a `//` comment of the example's source, and every marker names a
// step that the trace prints.
#include <cstdio>
#include <fstream>
#include <regex>
#include <set>
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

std::string RunCommand(const std::vector<std::string>& argv, int* status) {
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

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream text;
  text << f.rdbuf();
  return text.str();
}

TEST(ExampleTraceTest, MatchesExpected) {
  ASSERT_GE(g_argv.size(), 4u) << "usage: trace_check EXAMPLE EXPECTED SOURCE [ARGS...]";
  std::vector<std::string> cmd{g_argv[1]};
  cmd.insert(cmd.end(), g_argv.begin() + 4, g_argv.end());
  int status = -1;
  const std::string actual = RunCommand(cmd, &status);
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

TEST(ExampleTraceTest, EveryStepIsMarkedInSource) {
  ASSERT_GE(g_argv.size(), 4u) << "usage: trace_check EXAMPLE EXPECTED SOURCE [ARGS...]";
  const std::string expected = ReadFile(g_argv[2]);
  const std::string source = ReadFile(g_argv[3]);
  ASSERT_FALSE(source.empty()) << "cannot read " << g_argv[3];

  std::set<int> steps;  // [n] at the start of a trace line
  static const std::regex kStep(R"(^\s*\[(\d+)\])");
  std::istringstream in(expected);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, kStep)) steps.insert(std::stoi(m[1]));
  }
  std::set<int> marks;  // (n) inside a // comment
  static const std::regex kMark(R"(\((\d+)\))");
  std::istringstream src(source);
  for (std::string line; std::getline(src, line);) {
    const auto slash = line.find("//");
    if (slash == std::string::npos) continue;
    const std::string comment = line.substr(slash);
    for (std::sregex_iterator it(comment.begin(), comment.end(), kMark), end; it != end; ++it) {
      marks.insert(std::stoi((*it)[1]));
    }
  }
  EXPECT_FALSE(steps.empty()) << g_argv[2] << " has no numbered [n] lines";
  for (int n : steps) {
    EXPECT_TRUE(marks.count(n)) << "step [" << n << "] has no `// (" << n << ")` marker in " << g_argv[3];
  }
  for (int n : marks) {
    EXPECT_TRUE(steps.count(n)) << "marker (" << n << ") in " << g_argv[3] << " names no step of the trace";
  }
}

}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  g_argv.assign(argv, argv + argc);
  return RUN_ALL_TESTS();
}
