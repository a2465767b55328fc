// tests/docs/sequence_figure_test.cc: DocsFigureTest.
//
// Chapter 8's sequence diagram (docs/figures/08_host_loop_sequence.svg) is
// drawn from the OCaml host's real trace
// (tests/hostloop/ocaml/lwt_scenario.expected, itself checked against the
// real program by //tests/hostloop/ocaml:lwt_scenario_test). This test
// renders it again with docs/figures/render_host_loop_sequence.py --check and
// fails if the checked-in picture differs, so the picture cannot drift from
// the trace. Debian's python3 is used explicitly: it has python3-matplotlib.
#include <string>

#include <gtest/gtest.h>

#include "tests/docs/tree_check.h"

namespace {

using pollwake::docs_test::RunCheck;
using pollwake::docs_test::TreeRoot;

TEST(DocsFigureTest, SequenceDiagramMatchesTheTrace) {
  const std::string root = TreeRoot();
  ASSERT_FALSE(root.empty()) << "cannot find README.md in the runfiles";
  const auto r = RunCheck("/usr/bin/python3", root, "docs/figures/render_host_loop_sequence.py");
  EXPECT_EQ(r.status, 0) << r.output
                         << "\nrun `/usr/bin/python3 docs/figures/render_host_loop_sequence.py`";
  EXPECT_NE(r.output.find("up to date"), std::string::npos) << r.output;
}

}  // namespace
