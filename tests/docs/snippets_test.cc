// tests/docs/snippets_test.cc: DocsSnippetTest.
//
// Every code block in docs/ (and README.md) that follows a
// `<!-- snippet: file#region -->` marker must equal that region of the file,
// so the prose never drifts from the compiled code. The check itself is
// .ci/snippets.py; `python3 .ci/snippets.py --write` refreshes the blocks.
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

TEST(DocsSnippetTest, EverySnippetMatchesItsSource) {
  const std::string root = TreeRoot();
  ASSERT_FALSE(root.empty()) << "cannot find README.md in the runfiles";
  const std::string cmd = "python3 '" + root + "/.ci/snippets.py' --check --root '" + root + "' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int status = pclose(p);
  EXPECT_EQ(status, 0) << out << "\nrun `python3 .ci/snippets.py --write` to refresh the blocks";
  EXPECT_NE(out.find("snippets:"), std::string::npos) << out;
}

}  // namespace
