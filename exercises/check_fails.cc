// exercises/check_fails.cc: ExerciseStartTest, the proof that a starting file
// is broken in the way its exercise names.
//
// usage: check_fails START_TEST_BINARY SUITE.NAME MESSAGE
//
// FailsForTheNamedReason runs the exercise's test compiled against the
// starting file, and passes only if that binary exits with status 1 (a gtest
// failure, not a crash or a sanitizer report), the only failed test is
// SUITE.NAME, and the output contains MESSAGE (the text the test prints for
// the bug the exercise is about). So a starting file that passes by accident,
// or fails for another reason, makes this test fail.
#include <sys/wait.h>

#include <cstdio>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

std::vector<std::string> g_argv;

TEST(ExerciseStartTest, FailsForTheNamedReason) {
  ASSERT_EQ(g_argv.size(), 4u) << "usage: check_fails START_TEST_BINARY SUITE.NAME MESSAGE";
  const std::string cmd = "'" + g_argv[1] + "' --gtest_color=no 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int status = pclose(p);

  ASSERT_TRUE(WIFEXITED(status)) << "the starting code's test did not exit normally (a crash or "
                                    "a signal, not the named failure); it printed:\n" << out;
  ASSERT_EQ(WEXITSTATUS(status), 1) << "the starting code's test must fail (exit 1), but exited "
                                    << WEXITSTATUS(status) << "; it printed:\n" << out;

  // A sanitizer report that did not end the process (or ended it with
  // status 1) is not the named failure either.
  for (const char* bad : {"Sanitizer", "runtime error:"}) {
    ASSERT_EQ(out.find(bad), std::string::npos)
        << "the starting code's test hit a sanitizer report, not the named failure; it "
           "printed:\n" << out;
  }

  std::set<std::string> failed;  // "[  FAILED  ] Suite.Name (N ms)" lines
  static const std::regex kFailed(R"(^\[  FAILED  \] ([A-Za-z0-9_]+\.[A-Za-z0-9_/]+) \()");
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, kFailed)) failed.insert(m[1]);
  }
  EXPECT_EQ(failed, std::set<std::string>{g_argv[2]})
      << "the starting code must fail exactly " << g_argv[2] << "; it printed:\n" << out;
  EXPECT_NE(out.find(g_argv[3]), std::string::npos)
      << "the failure must say \"" << g_argv[3] << "\"; the starting code's test printed:\n" << out;
}

}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  g_argv.assign(argv, argv + argc);
  return RUN_ALL_TESTS();
}
