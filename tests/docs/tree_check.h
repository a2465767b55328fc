// tests/docs/tree_check.h: what the docs tests share. Each runs a checker
// script of the repository (.ci/snippets.py, .ci/four_table.py,
// docs/figures/render_host_loop_sequence.py) with --check on the source
// tree, which it finds through README.md's runfile (a link into the tree),
// and fails with the script's own output.
#ifndef POLLWAKE_TESTS_DOCS_TREE_CHECK_H_
#define POLLWAKE_TESTS_DOCS_TREE_CHECK_H_

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace pollwake::docs_test {

// The source tree: README.md in the runfiles is a link into it ("" if not).
inline std::string TreeRoot() {
  char resolved[PATH_MAX];
  if (realpath("README.md", resolved) == nullptr) return "";
  std::string path(resolved);
  return path.substr(0, path.rfind('/'));
}

struct CheckResult {
  int status = -1;  // pclose's wait status; 0 when the check passed
  std::string output;  // standard output and error
};

// Runs `python` on ROOT/`script` --check --root ROOT.
inline CheckResult RunCheck(const std::string& python, const std::string& root,
                            const std::string& script) {
  CheckResult r;
  const std::string cmd =
      python + " '" + root + "/" + script + "' --check --root '" + root + "' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) {
    r.output = "cannot start: " + cmd;
    return r;
  }
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) r.output.append(buf, n);
  r.status = pclose(p);
  return r;
}

}  // namespace pollwake::docs_test

#endif  // POLLWAKE_TESTS_DOCS_TREE_CHECK_H_
