// tests/docs/snippets_test.cc: DocsSnippetTest.
//
// Every code block in docs/ (and README.md) that follows a
// `<!-- snippet: file#region -->` marker must equal that region of the file,
// so the prose never drifts from the compiled code. The check itself is
// .ci/snippets.py; `python3 .ci/snippets.py --write` refreshes the blocks.
#include <string>

#include <gtest/gtest.h>

#include "tests/docs/tree_check.h"

namespace {

using pollwake::docs_test::RunCheck;
using pollwake::docs_test::TreeRoot;

TEST(DocsSnippetTest, EverySnippetMatchesItsSource) {
  const std::string root = TreeRoot();
  ASSERT_FALSE(root.empty()) << "cannot find README.md in the runfiles";
  const auto r = RunCheck("python3", root, ".ci/snippets.py");
  EXPECT_EQ(r.status, 0) << r.output << "\nrun `python3 .ci/snippets.py --write` to refresh the blocks";
  EXPECT_NE(r.output.find("snippets:"), std::string::npos) << r.output;
}

}  // namespace
