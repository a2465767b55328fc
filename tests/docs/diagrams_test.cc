// tests/docs/diagrams_test.cc: DocsDiagramsTest.
//
// docs/figures/diagrams/ holds, for every example, a sequence diagram drawn
// from its real trace (examples/NN_name.expected, itself checked against the
// program by NN_name_trace_test) and, for every hand-written state machine, a
// state diagram read from its source. This test renders them all again with
// docs/figures/render_diagrams.py --check and fails if a checked-in SVG
// differs, is missing, or belongs to no example: the pictures cannot drift
// from the traces and the code. Debian's python3 is used explicitly (it has
// python3-matplotlib), and Graphviz's `dot` (package graphviz).
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

std::string RunShell(const std::string& cmd, int* status) {
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

TEST(DocsDiagramsTest, EveryDiagramMatchesItsTraceAndSource) {
  const std::string root = TreeRoot();
  ASSERT_FALSE(root.empty()) << "cannot find README.md in the runfiles";
  int status = -1;
  const std::string out = RunShell("/usr/bin/python3 '" + root +
                                  "/docs/figures/render_diagrams.py' --check --root '" + root +
                                  "' 2>&1",
                              &status);
  EXPECT_EQ(status, 0) << out << "\nrun `/usr/bin/python3 docs/figures/render_diagrams.py`";
  EXPECT_NE(out.find("diagrams up to date"), std::string::npos) << out;
}

// The check is not vacuous: a diagram that no longer matches is reported.
TEST(DocsDiagramsTest, AChangedDiagramIsReported) {
  const std::string root = TreeRoot();
  ASSERT_FALSE(root.empty());
  char tmpl[] = "/tmp/pollwake_diagrams_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string copy = tmpl;
  int status = -1;
  // A private copy of what the script reads, with one trace changed.
  RunShell("mkdir -p '" + copy + "/docs/figures' && cp -r '" + root + "/examples' '" + copy +
          "/' && cp -r '" + root + "/docs/figures/diagrams' '" + copy +
          "/docs/figures/' && echo '[99] main: a step the picture does not show' >> '" + copy +
          "/examples/01_trivial.expected'",
      &status);
  ASSERT_EQ(status, 0);
  const std::string out = RunShell("/usr/bin/python3 '" + root +
                                  "/docs/figures/render_diagrams.py' --check --root '" + copy +
                                  "' 2>&1",
                              &status);
  EXPECT_NE(status, 0) << out;
  EXPECT_NE(out.find("differs: docs/figures/diagrams/01_trivial_sequence.svg"), std::string::npos)
      << out;
  RunShell("rm -rf '" + copy + "'", &status);
}

}  // namespace
