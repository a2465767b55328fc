// tests/fuzz/local_pool_fuzzer.h: the schedule fuzzer's entry point.
//
// LLVMFuzzerTestOneInput reads its bytes as a sequence of operations on a
// LocalPool (see local_pool_fuzzer.cc for the encoding and the checks). It is
// linked two ways: with libFuzzer (tests/fuzz/run_fuzzer.sh schedule, clang only) and
// with the replay test over the checked-in corpus (local_pool_fuzzer_replay_test,
// every configuration of `bazel test //...`).
//
// A broken promise prints "local_pool_fuzzer: CHECK failed ..." with the
// operation that exposed it and aborts the process, which is how libFuzzer
// expects a target to report a bug.
#ifndef POLLWAKE_TESTS_FUZZ_LOCAL_POOL_FUZZER_H_
#define POLLWAKE_TESTS_FUZZ_LOCAL_POOL_FUZZER_H_

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace pollwake::fuzz {

// The name of the input being run, printed with a failed CHECK (the replay
// test sets it; libFuzzer prints its own).
void set_input_name(const char* name);


// Counters over all inputs run so far (for the replay test's assertions that
// the corpus exercises every operation).
struct Coverage {
  long ops[32] = {};          // by operation code
  long polls = 0;
  long completions = 0;
  long exceptions = 0;        // task exceptions that reached the harness
  long nested_refusals = 0;   // EnterError from a run inside a task
  long stale_wakes = 0;       // wakes of tasks whose pool was gone
  long spawn_refusals = 0;    // SpawnError from a dropped pool's spawner
  long cancels = 0;           // tasks dropped with their RemoteHandle
  long coalesced_cross_wakes = 0;  // cross-task wakes of self-queued tasks
};
const Coverage& coverage();

}  // namespace pollwake::fuzz

#endif  // POLLWAKE_TESTS_FUZZ_LOCAL_POOL_FUZZER_H_
