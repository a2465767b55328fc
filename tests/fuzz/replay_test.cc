// tests/fuzz/replay_test.cc: replays the checked-in corpus through the
// schedule fuzzer's entry point (local_pool_fuzzer.cc), so every
// configuration of `bazel test //...` (default, asan, tsan) runs the inputs
// that libFuzzer found and the hand-made ones. A broken promise aborts the
// test with "local_pool_fuzzer: CHECK failed in <file>, operation #N ...".
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/fuzz/local_pool_fuzzer.h"

namespace {

std::vector<unsigned char> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<unsigned char>((std::istreambuf_iterator<char>(in)),
                                    std::istreambuf_iterator<char>());
}

std::vector<std::filesystem::path> CorpusFiles(const char* dir = "tests/fuzz/corpus") {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(ScheduleFuzzerTest, ReplaysEveryCorpusInputWithoutBreakingAPromise) {
  std::vector<std::filesystem::path> files = CorpusFiles();
  ASSERT_GE(files.size(), 24u) << "the corpus tests/fuzz/corpus/ is missing or too small";
  for (const auto& path : files) {
    std::vector<unsigned char> bytes = ReadFile(path);
    std::string name = path.filename().string();
    pollwake::fuzz::set_input_name(name.c_str());
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  }
  // The corpus must keep exercising every operation and every outcome, or
  // the replay would check less than it seems to.
  const pollwake::fuzz::Coverage& c = pollwake::fuzz::coverage();
  for (int op = 0; op < 16; ++op) EXPECT_GT(c.ops[op], 0) << "no input uses operation " << op;
  EXPECT_GT(c.polls, 0);
  EXPECT_GT(c.completions, 0);
  EXPECT_GT(c.exceptions, 0) << "no input has a task exception reach the harness";
  EXPECT_GT(c.nested_refusals, 0) << "no input tries a run inside a task";
  EXPECT_GT(c.stale_wakes, 0) << "no input wakes a task of a dropped pool";
  EXPECT_GT(c.spawn_refusals, 0) << "no input spawns on a dropped pool";
  EXPECT_GT(c.cancels, 0) << "no input cancels a task by dropping its handle";
}

}  // namespace
