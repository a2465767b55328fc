// tests/oracles/csharp/csharp_oracle_test.cc: CSharpOracleTest.
//
// The eager model in interop/csharp/ claims to behave as C# does. This test
// asks real C#: it compiles the twins in this directory with Mono's C#
// compiler (mcs), runs them with mono, runs the C++ examples, and checks that
// the traces agree line for line.
//
//   examples/11_continuation_contexts  <->  11_continuation_contexts.cs
//     the whole trace: which thread runs each continuation, in which order.
//   examples/10_eager_vs_lazy, part 3  <->  10_eager_vs_lazy.cs
//     the eager task's trace: "Hello!" during the call, the rest inside
//     SetResult.
//
// Normalizations, applied to both sides before comparing (and why):
//   1. A trailing '\r' is dropped (a .NET runtime on Windows would print it).
//   2. Part 3 of example 10 only: the step numbers `[n] ` are stripped,
//      because the C++ example numbers its three parts in one sequence and
//      the C# twin has only part 3.
// Thread names need no normalization here: both programs name their own
// threads ("main", "ui", "worker"), and both report a thread-pool thread as
// "pool" (C#'s pool threads have no name, so the twin prints "pool" when
// Thread.IsThreadPoolThread is true; csharp::ThreadPool names its threads
// "pool").
//
// Needs (Debian packages): mono-mcs, mono-runtime (.ci/deps.sh installs
// them). mcs and mono live outside Bazel's sandbox, hence tags = ["local"].
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/oracles/run_program.h"

namespace {

using pollwake::oracles::CSharpCommand;
using pollwake::oracles::Lines;
using pollwake::oracles::Quote;
using pollwake::oracles::RunCommand;
using pollwake::oracles::SameLines;

std::vector<std::string> g_args;  // example10 example11 cs10 cs11

// Compiles `cs` with mcs and runs it with mono; returns its standard output.
std::string RunCSharp(const std::string& cs, std::string* error) {
  const std::string cmd = CSharpCommand(cs, error);
  if (cmd.empty()) return "";
  int status = -1;
  std::string out = RunCommand(cmd, &status);
  if (status != 0) {
    *error = "mono failed (status " + std::to_string(status) + "):\n" + out;
    return "";
  }
  return out;
}

std::string RunExample(const std::string& path, std::string* error) {
  int status = -1;
  std::string out = RunCommand(Quote(path) + " 2>&1", &status);
  if (status != 0) *error = "the example exited with status " + std::to_string(status) + ":\n" + out;
  return out;
}

void ExpectSameLines(const std::vector<std::string>& cpp, const std::vector<std::string>& cs,
                     const std::string& cpp_text, const std::string& cs_text) {
  ASSERT_FALSE(cs.empty()) << "the C# twin printed nothing";
  ASSERT_TRUE(SameLines(cpp, cs, "C++ model", "real C#"))
      << "C++ printed:\n" << cpp_text << "\nC# printed:\n" << cs_text;
}

TEST(CSharpOracleTest, ContinuationContextsTraceMatchesMono) {
  ASSERT_EQ(g_args.size(), 4u) << "usage: csharp_oracle_test EX10 EX11 CS10 CS11";
  std::string error;
  const std::string cpp = RunExample(g_args[1], &error);
  ASSERT_TRUE(error.empty()) << error;
  const std::string cs = RunCSharp(g_args[3], &error);
  ASSERT_TRUE(error.empty()) << error;
  ExpectSameLines(Lines(cpp, false), Lines(cs, false), cpp, cs);
}

TEST(CSharpOracleTest, EagerTraceMatchesMono) {
  ASSERT_EQ(g_args.size(), 4u) << "usage: csharp_oracle_test EX10 EX11 CS10 CS11";
  std::string error;
  const std::string cpp = RunExample(g_args[0], &error);
  ASSERT_TRUE(error.empty()) << error;
  const std::string cs = RunCSharp(g_args[2], &error);
  ASSERT_TRUE(error.empty()) << error;

  // Part 3 of the C++ trace: the lines between its two markers.
  std::vector<std::string> part3;
  bool inside = false;
  bool ended = false;
  for (const std::string& line : Lines(cpp, true)) {
    if (line.rfind("== 3.", 0) == 0) {
      inside = true;
    } else if (line == "== end of part 3") {
      ended = inside;
      inside = false;
    } else if (inside) {
      part3.push_back(line);
    }
  }
  ASSERT_TRUE(ended) << "the example no longer marks part 3 ('== 3.' ... '== end of part 3'):\n" << cpp;
  ExpectSameLines(part3, Lines(cs, true), cpp, cs);
}

}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  g_args.assign(argv + 1, argv + argc);
  return RUN_ALL_TESTS();
}
