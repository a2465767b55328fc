// tests/oracles/run_program.h: what the oracle tests share. Each of them runs
// a program (a C++ example, a C++ twin, or a real foreign runtime: Rust, Mono,
// node, Go), takes its standard output, splits it into lines and compares
// them, line by line, with another program's or a checked-in file's.
//
// Header-only and test-only: popen/pclose, the tool lookup (Bazel's test
// environment has a minimal PATH, so tools are looked for where Debian puts
// them), Mono's compile-then-run, and the line-by-line comparison whose
// message names the first differing line.
#ifndef POLLWAKE_TESTS_ORACLES_RUN_PROGRAM_H_
#define POLLWAKE_TESTS_ORACLES_RUN_PROGRAM_H_

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace pollwake::oracles {

// Runs `cmd` through the shell; returns its standard output, sets *status
// (pclose's wait status; -1 if the shell could not be started).
inline std::string RunCommand(const std::string& cmd, int* status) {
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

// Single-quotes `s` for the shell (the paths here contain no quote).
inline std::string Quote(const std::string& s) { return "'" + s + "'"; }

// The test's own scratch directory.
inline std::string TmpDir() {
  const char* t = std::getenv("TEST_TMPDIR");
  return t != nullptr ? t : std::filesystem::temp_directory_path().string();
}

// The first of `paths` that exists, or "".
inline std::string FirstExisting(std::initializer_list<const char*> paths) {
  for (const char* p : paths) {
    if (std::filesystem::exists(p)) return p;
  }
  return "";
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Splits `text` into lines; drops a trailing '\r' (a runtime on Windows would
// print it) and, with strip_steps, the step numbers `[n] ` of a trace.
inline std::vector<std::string> Lines(const std::string& text, bool strip_steps = false) {
  static const std::regex kStep(R"(^\[\d+\] )");
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (strip_steps) line = std::regex_replace(line, kStep, "");
    out.push_back(line);
  }
  return out;
}

// Compiles the C# file `cs` with Mono's mcs into the test's tmpdir; returns
// the shell command that runs it with mono, or sets *error.
inline std::string CSharpCommand(const std::string& cs, std::string* error) {
  const std::string mcs = FirstExisting({"/usr/bin/mcs", "/usr/local/bin/mcs"});
  const std::string mono = FirstExisting({"/usr/bin/mono", "/usr/local/bin/mono"});
  if (mcs.empty() || mono.empty()) {
    *error = "mcs or mono not found: install mono-mcs and mono-runtime (bash .ci/deps.sh)";
    return "";
  }
  const std::string tmp = TmpDir();
  const std::string exe = tmp + "/" + std::filesystem::path(cs).stem().string() + ".exe";
  int status = -1;
  const std::string out =
      RunCommand(Quote(mcs) + " -nologo -out:" + Quote(exe) + " " + Quote(cs) + " 2>&1", &status);
  if (status != 0) {
    *error = "mcs failed (status " + std::to_string(status) + "):\n" + out;
    return "";
  }
  // HOME: mono reads its per-user config there; Bazel may leave it unset.
  return "HOME=" + Quote(tmp) + " " + Quote(mono) + " " + Quote(exe);
}

// Success when `left` and `right` are the same lines; otherwise a failure
// that names the first differing line and shows both sides of it (a missing
// line shows as "<missing line>"). The caller adds the whole outputs.
inline testing::AssertionResult SameLines(const std::vector<std::string>& left,
                                          const std::vector<std::string>& right,
                                          const std::string& left_name,
                                          const std::string& right_name) {
  for (size_t i = 0; i < left.size() || i < right.size(); ++i) {
    const std::string a = i < left.size() ? left[i] : "<missing line>";
    const std::string b = i < right.size() ? right[i] : "<missing line>";
    if (a != b) {
      return testing::AssertionFailure()
             << "first difference at line " << (i + 1) << "\n  " << left_name << ": " << a
             << "\n  " << right_name << ": " << b << "\n";
    }
  }
  return testing::AssertionSuccess();
}

}  // namespace pollwake::oracles

#endif  // POLLWAKE_TESTS_ORACLES_RUN_PROGRAM_H_
