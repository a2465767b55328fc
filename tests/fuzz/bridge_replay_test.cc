// tests/fuzz/bridge_replay_test.cc: replays the checked-in corpus of the
// bridge fuzzer (tests/fuzz/bridge_corpus/) through its entry point, so every
// configuration of `bazel test //...` (default, asan, tsan) runs the inputs
// libFuzzer found and the hand-made ones. A broken promise aborts with
// "bridge_fuzzer: CHECK failed (input <name>) ...".
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "interop/bridge/pollwake_bridge.h"
#include "tests/fuzz/bridge_fuzzer.h"

namespace {

std::vector<unsigned char> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<unsigned char>((std::istreambuf_iterator<char>(in)),
                                    std::istreambuf_iterator<char>());
}

TEST(BridgeFuzzerTest, ReplaysEveryCorpusInputWithoutBreakingAPromise) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("tests/fuzz/bridge_corpus", ec)) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 10u) << "the corpus tests/fuzz/bridge_corpus/ is missing or too small";
  for (const auto& path : files) {
    std::vector<unsigned char> bytes = ReadFile(path);
    const std::string name = path.filename().string();
    pollwake::bridge_fuzz::set_input_name(name.c_str());
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  }
  // The corpus must keep reaching every operation and the outcomes that
  // matter, or the replay would check less than it seems to.
  const auto& c = pollwake::bridge_fuzz::coverage();
  for (int op = 0; op < 16; ++op) EXPECT_GT(c.ops[op], 0) << "no input uses operation " << op;
  for (pwb_status s : {PWB_OK, PWB_CANCELED, PWB_INVALID_ARGUMENT, PWB_BAD_HANDLE, PWB_NOT_FOUND,
                       PWB_ALREADY_EXISTS, PWB_NOT_RUNNING}) {
    EXPECT_GT(c.statuses[s], 0) << "no completion with " << pwb_status_name(s);
  }
  EXPECT_GT(c.rows, 0) << "no scan delivered a row";
}

}  // namespace
