// tests/oracles/four/compare_trace_test.cc: FourAnswersTest.
//
// One source, several cc_tests (BUILD): each runs one program (the five of
// docs/10_four_answers.md in <lang>/four.*, or one of the rule checks
// js/ordering.js and csharp/pieces.cs) and checks its standard output, line
// by line, against the checked-in .expected file beside it.
//
//   args: real|twin LANG PROGRAM EXPECTED
//   real rust    PROGRAM is the binary built by Debian's cargo (:rust_four)
//   real csharp  PROGRAM is a .cs file: compiled with mcs, run with mono
//   real js      PROGRAM is a .js file: run with Debian's node (/usr/bin/node)
//   real go      PROGRAM is a .go file: `go run`, standard library only, offline
//                (GOPROXY=off, GOFLAGS=-mod=mod, GOCACHE in the test's tmpdir)
//   twin LANG    PROGRAM is a C++ twin (twins/*_twin.cc)
//
// So the expected file is what the real runtime prints (a real test failing
// means the file is stale or the runtime changed its answer), and the C++
// twin must print the same.
//
// Normalizations, applied to both sides (and why): a trailing '\r' is
// dropped (a runtime on Windows would print it). Nothing else: each twin
// prints the very trace of its language. Where a C++ model works
// differently (Go's goroutines are threads in the twin; C#'s garbage
// collector is a self-owning frame), the programs print only what both
// promise, and the chapter says what differs.
//
// Needs (Debian packages, installed by .ci/deps.sh): rustc, cargo,
// librust-futures-dev; mono-mcs, mono-runtime; nodejs; golang-go. They live
// outside Bazel's sandbox, hence tags = ["local"] on the real tests.
#include <string>
#include <vector>

#include <sys/wait.h>

#include <gtest/gtest.h>

#include "tests/oracles/run_program.h"

namespace {

using pollwake::oracles::CSharpCommand;
using pollwake::oracles::FirstExisting;
using pollwake::oracles::Lines;
using pollwake::oracles::Quote;
using pollwake::oracles::ReadFile;
using pollwake::oracles::RunCommand;
using pollwake::oracles::SameLines;
using pollwake::oracles::TmpDir;

std::vector<std::string> g_args;  // real|twin LANG PROGRAM EXPECTED

// Runs PROGRAM as LANG's real runtime (or as a twin binary) and returns its
// standard output; on failure sets *error.
std::string RunProgram(const std::string& kind, const std::string& lang, const std::string& program,
                std::string* error) {
  const std::string tmp = TmpDir();
  std::string cmd;
  if (kind == "twin" || lang == "rust") {
    cmd = Quote(program);
  } else if (lang == "csharp") {
    cmd = CSharpCommand(program, error);
    if (cmd.empty()) return "";
  } else if (lang == "js") {
    // Debian's nodejs package installs /usr/bin/node (and /usr/bin/nodejs).
    const std::string node = FirstExisting({"/usr/bin/node", "/usr/bin/nodejs"});
    if (node.empty()) {
      *error = "node not found: install nodejs (bash .ci/deps.sh)";
      return "";
    }
    cmd = Quote(node) + " " + Quote(program);
  } else if (lang == "go") {
    const std::string go = FirstExisting({"/usr/lib/go/bin/go", "/usr/bin/go"});
    if (go.empty()) {
      *error = "go not found: install golang-go (bash .ci/deps.sh)";
      return "";
    }
    // Offline and private: no module downloads, no toolchain switch, caches
    // under the test's own tmpdir.
    cmd = "HOME=" + Quote(tmp) + " GOCACHE=" + Quote(tmp + "/gocache") + " GOPATH=" + Quote(tmp + "/gopath") +
          " GODEBUG= GOTMPDIR= GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local GO111MODULE=on " + Quote(go) + " run " +
          Quote(program);
  } else {
    *error = "unknown language " + lang;
    return "";
  }
  // A real runtime that hangs (e.g. Go's row 5 without asynchronous
  // preemption) must fail with a message, not run into Bazel's timeout:
  // coreutils' timeout ends it and exits with 124.
  if (kind == "real") cmd = "timeout 240 env " + cmd;  // env: cmd may start with VAR=value
  int status = -1;
  std::string out = RunCommand(cmd + " 2>&1", &status);
  if (status != 0) {
    *error = "`" + cmd + "` exited with status " + std::to_string(status) +
             (WIFEXITED(status) && WEXITSTATUS(status) == 124 ? " (timed out after 240 s)" : "") + ":\n" + out;
  }
  return out;
}

TEST(FourAnswersTest, TraceMatchesExpected) {
  ASSERT_EQ(g_args.size(), 4u) << "usage: compare_trace_test real|twin LANG PROGRAM EXPECTED";
  const std::string& kind = g_args[0];
  const std::string& lang = g_args[1];
  std::string error;
  const std::string out = RunProgram(kind, lang, g_args[2], &error);
  ASSERT_TRUE(error.empty()) << error;
  const std::string want_text = ReadFile(g_args[3]);
  ASSERT_FALSE(want_text.empty()) << "cannot read " << g_args[3];
  const std::vector<std::string> got = Lines(out);
  const std::vector<std::string> want = Lines(want_text);
  const std::string who = kind == "twin" ? "the C++ twin of " + lang : "real " + lang;
  ASSERT_TRUE(SameLines(got, want, who, g_args[3])) << who << " printed:\n" << out;
}

}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) g_args.push_back(argv[i]);
  return RUN_ALL_TESTS();
}
