// tests/fuzz/bridge_fuzzer.h: the C ABI bridge fuzzer's entry point.
//
// LLVMFuzzerTestOneInput reads its bytes as a sequence of calls into
// interop/bridge/pollwake_bridge.h (see bridge_fuzzer.cc for the encoding
// and the checks): random handles (valid, closed, stale, forged, zero),
// random arguments, both APIs, and shutdowns at random points. Linked two
// ways, as the schedule fuzzer is: with libFuzzer
// (tests/fuzz/run_fuzzer.sh bridge, clang only) and with
// bridge_fuzzer_replay_test over the checked-in corpus tests/fuzz/bridge_corpus/
// (every configuration of `bazel test //...`).
//
// A broken promise prints "bridge_fuzzer: CHECK failed ..." and aborts.
#ifndef POLLWAKE_TESTS_FUZZ_BRIDGE_FUZZER_H_
#define POLLWAKE_TESTS_FUZZ_BRIDGE_FUZZER_H_

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace pollwake::bridge_fuzz {

void set_input_name(const char* name);

// Counters over all inputs run so far, for the replay test's assertions
// that the corpus reaches every operation and every interesting outcome.
struct Coverage {
  long ops[16] = {};       // by operation code
  long statuses[16] = {};  // completions by status code
  long rows = 0;           // scan rows delivered
};
const Coverage& coverage();

}  // namespace pollwake::bridge_fuzz

#endif  // POLLWAKE_TESTS_FUZZ_BRIDGE_FUZZER_H_
