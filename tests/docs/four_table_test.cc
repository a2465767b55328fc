// tests/docs/four_table_test.cc: DocsFourTableTest.
//
// The table of docs/10_four_answers.md is generated from the real runtimes'
// traces (tests/oracles/four/<lang>/four.expected) by .ci/four_table.py;
// this test fails when the chapter's copy is stale.
#include <string>

#include <gtest/gtest.h>

#include "tests/docs/tree_check.h"

namespace {

using pollwake::docs_test::RunCheck;
using pollwake::docs_test::TreeRoot;

TEST(DocsFourTableTest, TableMatchesTheRealTraces) {
  const std::string root = TreeRoot();
  ASSERT_FALSE(root.empty()) << "cannot find README.md in the runfiles";
  const auto r = RunCheck("python3", root, ".ci/four_table.py");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("four_table: up to date"), std::string::npos) << r.output;
}

}  // namespace
