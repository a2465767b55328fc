// tests/docs/four_table_test.cc: DocsFourTableTest.
//
// The table of docs/10_four_answers.md is generated from the real runtimes'
// traces (tests/oracles/four/<lang>/four.expected) by .ci/four_table.py;
// this test fails when the chapter's copy is stale.
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

namespace {

// The source tree: README.md in the runfiles is a link into it.
std::string TreeRoot() {
  char resolved[PATH_MAX];
  if (realpath("README.md", resolved) == nullptr) return "";
  std::string path(resolved);
  return path.substr(0, path.rfind('/'));
}

TEST(DocsFourTableTest, TableMatchesTheRealTraces) {
  const std::string root = TreeRoot();
  ASSERT_FALSE(root.empty()) << "cannot find README.md in the runfiles";
  const std::string cmd = "python3 '" + root + "/.ci/four_table.py' --check --root '" + root + "' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int status = pclose(p);
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("four_table: up to date"), std::string::npos) << out;
}

}  // namespace
