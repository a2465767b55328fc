// tests/hostloop/ocaml/lwt_scenario_test.cc: LwtScenarioTest. Runs the OCaml
// program lwt_scenario (real OCaml, real Lwt, linked with pollwake's
// HostExecutor by ocamlfind) and compares its numbered trace, line by line,
// with lwt_scenario.expected. The trace is deterministic: every line is
// printed on the OCaml main thread (a wake from the C++ thread of scenario 3
// notifies without printing), and Lwt runs its callbacks in a fixed order.
//
// Under --config=asan the program carries ASan's leak checker; the OCaml
// runtime keeps one allocation until exit on purpose (its alternate signal
// stack), which LSAN_OPTIONS suppresses with lsan_ocaml.supp. Nothing of
// pollwake's is suppressed.
//
// usage: lwt_scenario_test PROGRAM EXPECTED LSAN_SUPPRESSIONS
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

std::vector<std::string> g_args;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(LwtScenarioTest, TraceMatchesExpected) {
  ASSERT_EQ(g_args.size(), 4u) << "usage: lwt_scenario_test PROGRAM EXPECTED LSAN_SUPPRESSIONS";
  setenv("LSAN_OPTIONS", ("suppressions=" + g_args[3] + ":print_suppressions=0").c_str(), 1);
  FILE* p = popen(("'" + g_args[1] + "' 2>&1").c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int status = pclose(p);
  EXPECT_EQ(status, 0) << "the OCaml program failed:\n" << out;

  std::ifstream f(g_args[2]);
  std::stringstream expected;
  expected << f.rdbuf();
  const std::vector<std::string> want = Lines(expected.str());
  const std::vector<std::string> got = Lines(out);
  ASSERT_FALSE(want.empty()) << "cannot read " << g_args[2];
  for (size_t i = 0; i < want.size() || i < got.size(); ++i) {
    ASSERT_EQ(i < got.size() ? got[i] : "<missing>", i < want.size() ? want[i] : "<extra>")
        << "line " << i + 1 << "; whole output:\n" << out;
  }
}

}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  g_args.assign(argv, argv + argc);
  return RUN_ALL_TESTS();
}
