// tests/docs/sequence_figure_test.cc: DocsFigureTest.
//
// Chapter 8's sequence diagram (docs/figures/08_host_loop_sequence.svg) is
// drawn from the OCaml host's real trace
// (tests/hostloop/ocaml/lwt_scenario.expected, itself checked against the
// real program by //tests/hostloop/ocaml:lwt_scenario_test). This test
// renders it again with docs/figures/render_host_loop_sequence.py --check and
// fails if the checked-in picture differs, so the picture cannot drift from
// the trace. Debian's python3 is used explicitly: it has python3-matplotlib.
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

TEST(DocsFigureTest, SequenceDiagramMatchesTheTrace) {
  const std::string root = TreeRoot();
  ASSERT_FALSE(root.empty()) << "cannot find README.md in the runfiles";
  const std::string cmd = "/usr/bin/python3 '" + root +
                          "/docs/figures/render_host_loop_sequence.py' --check --root '" + root +
                          "' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int status = pclose(p);
  EXPECT_EQ(status, 0) << out
                       << "\nrun `/usr/bin/python3 docs/figures/render_host_loop_sequence.py`";
  EXPECT_NE(out.find("up to date"), std::string::npos) << out;
}

}  // namespace
