// tests/oracles/rust_oracle_test.cc: RustOracleTest, one test per example.
//
// Each hand-written state machine in examples/ has a twin in real Rust in
// tests/oracles/rust/src/bin/ (an `async fn` compiled by rustc, driven the
// same way, printing the same trace lines). The genrule :rust_twins builds
// them with Debian's cargo and rustc, offline (build_rust.sh); this test
// runs each example and its twin and checks that the two traces agree line
// for line: the same
// user code runs in the same order, the same leaf futures are polled in the
// same order with the same answers, and the waker's vtable functions (clone,
// wake, wake_by_ref, drop) are called at the same moments.
//
// Normalizations, applied before comparing (and why):
//   1. Lines the C++ rewrite prints about its own states (text starting with
//      the state machine's class name, e.g. `TrivialFuture: state -> ...`)
//      are dropped from the C++ trace: rustc's machine is silent, so the
//      twin has nothing to print there.
//   2. The step numbers `[n] ` are stripped from both sides: dropping the
//      lines of rule 1 renumbers the rest.
//   3. `sizeof(X) = N bytes` becomes `sizeof(X) = <N> bytes`: rustc lays out
//      its machine differently (docs/03_what_the_compiler_writes.md shows
//      both sizes).
//   4. `caught: <C++ message> (Rust: <panic message>)` becomes `caught:
//      <panic message>`: the C++ exception quotes the panic Rust raises when
//      a finished (or poisoned) `async fn` is polled, and that quote must
//      match the real panic message word for word.
//
// The leaf futures of 01, 05 and 07 print when they are dropped (Rust: a
// Drop impl; C++: a destructor), so the comparison also pins down drop
// order: rustc drops an awaited future as soon as its .await completes.
//
// Needs (Debian packages): rustc, cargo, librust-futures-dev. The twins build
// from /usr/share/cargo/registry (see tests/oracles/rust/.cargo/config.toml),
// outside Bazel's sandbox, hence `local = True` on the genrule.
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/oracles/run_program.h"

namespace {

using pollwake::oracles::Quote;
using pollwake::oracles::RunCommand;
using pollwake::oracles::SameLines;

// Splits a trace and applies the normalizations listed at the top.
// `machine` is the C++ state machine's class name ("" for the Rust side).
std::vector<std::string> Normalize(const std::string& text, const std::string& machine) {
  static const std::regex kStep(R"(^\[\d+\] )");
  static const std::regex kSizeof(R"(sizeof\((\w+)\) = \d+ bytes)");
  static const std::regex kCaught(R"(caught: .*\(Rust: (.*)\)$)");
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::string body = std::regex_replace(line, kStep, "");                     // rule 2
    if (!machine.empty() && body.rfind(machine, 0) == 0) continue;              // rule 1
    body = std::regex_replace(body, kSizeof, "sizeof($1) = <N> bytes");          // rule 3
    body = std::regex_replace(body, kCaught, "caught: $1");                      // rule 4
    out.push_back(body);
  }
  return out;
}

class RustOracleTest : public testing::Test {
 protected:
  // Runs C++ example `example` and Rust twin `twin`, compares the traces.
  static void ExpectSameTrace(const std::string& example, const std::string& twin,
                              const std::string& machine) {
    int cpp_status = -1, rust_status = -1;
    const std::string cpp = RunCommand(Quote("examples/" + example), &cpp_status);
    const std::string rust = RunCommand(Quote(bin_dir_ + "/" + twin), &rust_status);
    ASSERT_EQ(cpp_status, 0) << example << " failed; it printed:\n" << cpp;
    ASSERT_EQ(rust_status, 0) << twin << " failed; it printed:\n" << rust;

    const auto want = Normalize(rust, "");
    const auto got = Normalize(cpp, machine);
    ASSERT_TRUE(SameLines(want, got, "Rust " + twin, "C++ " + example))
        << "(normalized lines)\n--- Rust printed:\n" << rust << "--- C++ printed:\n" << cpp;
  }

  // Where the genrule //tests/oracles:rust_twins puts the twins (runfiles).
  static inline const std::string bin_dir_ = "tests/oracles/rust_twins";
};

TEST_F(RustOracleTest, TrivialTraceMatches) {
  ExpectSameTrace("01_trivial", "ex01_trivial", "TrivialFuture");
}

TEST_F(RustOracleTest, LoopAwaitTraceMatches) {
  ExpectSameTrace("05_loop_await", "ex05_loop_await", "LoopAwaitFuture");
}

TEST_F(RustOracleTest, JoinTwoTraceMatches) {
  ExpectSameTrace("06_join_two", "ex06_join_two", "JoinTwoFuture");
}

TEST_F(RustOracleTest, EarlyReturnTraceMatches) {
  ExpectSameTrace("07_early_return", "ex07_early_return", "EarlyReturnFuture");
}

TEST_F(RustOracleTest, SelectTimeoutTraceMatches) {
  ExpectSameTrace("08_select_timeout", "ex08_select_timeout", "SelectTimeoutFuture");
}

// 09 has no trace twin (its lesson is a move that does not compile); its
// companion compiles the same `async fn` and must compute the same result.
TEST_F(RustOracleTest, SelfBorrowResultMatches) {
  int cpp_status = -1, rust_status = -1;
  const std::string cpp = RunCommand(Quote("examples/09_self_borrow"), &cpp_status);
  const std::string rust = RunCommand(Quote(bin_dir_ + "/ex09_self_borrow"), &rust_status);
  ASSERT_EQ(cpp_status, 0) << cpp;
  ASSERT_EQ(rust_status, 0) << rust;
  EXPECT_NE(rust.find("main: Ready(9)"), std::string::npos) << rust;
  EXPECT_NE(cpp.find("main: Ready(9)"), std::string::npos) << cpp;
}

// The comparison is not vacuous: two different programs do not agree.
TEST_F(RustOracleTest, DifferentProgramsDoNotMatch) {
  int cpp_status = -1, rust_status = -1;
  const std::string cpp = RunCommand(Quote("examples/05_loop_await"), &cpp_status);
  const std::string rust = RunCommand(Quote(bin_dir_ + "/ex06_join_two"), &rust_status);
  ASSERT_EQ(cpp_status, 0) << cpp;
  ASSERT_EQ(rust_status, 0) << rust;
  EXPECT_NE(Normalize(cpp, "LoopAwaitFuture"), Normalize(rust, ""));
}

// The normalizer itself: a C++-only line must not survive, and numbering,
// sizes and the panic quote must not make equal traces differ.
TEST(RustOracleNormalizeTest, DropsMachineLinesAndNormalizesSizesAndPanics) {
  const std::string cpp =
      "[1] main: sizeof(F) = 24 bytes\n"
      "[2] F::poll: NeverPolled\n"
      "[3] main: caught: `f` polled after completion (Rust: `async fn` resumed after completion)\n";
  const std::string rust =
      "[1] main: sizeof(F) = 16 bytes\n"
      "[2] main: caught: `async fn` resumed after completion\n";
  EXPECT_EQ(Normalize(cpp, "F"), Normalize(rust, ""));
  EXPECT_NE(Normalize(cpp, ""), Normalize(rust, ""));  // rule 1 is what hides line [2]
}

}  // namespace
