// bench/bench_main.cc: main() of pollwake's benchmark binaries.
//
// What it measures: nothing itself; it decides in what kind of process the
// benchmarks run. The workload definitions ("Fairness notes") asks for single-thread
// workloads to be measured in a process that has started no other thread:
// until a process first calls pthread_create, glibc's malloc and mutexes
// skip their locked instructions (glibc exports the state as
// __libc_single_threaded), which can halve an executor's cost.
//
// How: by default main starts no thread, runs the benchmarks, and then
// checks /proc/self/status and __libc_single_threaded: a single-thread binary
// (POLLWAKE_BENCH_SINGLE) that finds more than one thread, or finds that one
// was ever started, fails, so a benchmark that starts one by
// mistake cannot pass for a single-thread figure. With --pollwake_threaded,
// main first starts and joins one thread (so glibc leaves single-thread
// mode for good) and renames every POLLWAKE_WORKLOAD benchmark
// `<name>/threaded`: the threaded variant of the same workload.
// Both facts are written into the JSON context.
// --pollwake_iterations=N fixes every workload's iteration count (for
// instruction counts under callgrind: two runs with different N, and the
// difference divided by the difference in operations, cancel start-up).
//
// absl::Mutex as a release build has it: Debian's libabsl is compiled
// without NDEBUG, so every absl::Mutex::Lock also feeds Abseil's deadlock
// detector (its mode starts as kAbort), which keeps a lock-order graph under
// one process-wide spin lock. An Abseil compiled with NDEBUG (CMake's Release,
// Bazel's -c opt) compiles the detector out; the mode kIgnore is the run-time
// equivalent, leaving one load of the mode per Lock and Unlock. main sets it, so
// a benchmark measures the mutex rather than the detector. Tests keep the
// detector on: there it catches lock-order inversions. The JSON context
// records the choice (absl_deadlock_detection).
#include <benchmark/benchmark.h>
#include <sys/single_threaded.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "bench/bench_util.h"

int main(int argc, char** argv) {
  bool threaded = false;
  long iterations = 0;
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--pollwake_threaded") == 0) {
      threaded = true;
    } else if (std::strncmp(argv[i], "--pollwake_iterations=", 22) == 0) {
      iterations = std::atol(argv[i] + 22);
    } else {
      argv[out++] = argv[i];
    }
  }
  argc = out;
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  benchmark::AddCustomContext("absl_deadlock_detection", "off (kIgnore: what an NDEBUG build of Abseil compiles out)");
  if (threaded) {
    std::thread([] {}).join();
    for (auto& [bench, name] : pollwake::bench::Workloads()) bench->Name(name + "/threaded");
  }
  if (iterations > 0) {
    for (auto& [bench, name] : pollwake::bench::Workloads()) bench->Iterations(iterations);
  }
  benchmark::AddCustomContext("pollwake_process", threaded ? "started_a_thread" : "no_thread_started");
  benchmark::AddCustomContext("libc_single_threaded", __libc_single_threaded ? "1" : "0");

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();

#ifdef POLLWAKE_BENCH_SINGLE
  // Both checks: a live thread at exit (/proc), and glibc's own flag, which
  // also catches a thread that was started and joined during a benchmark
  // (the context above records the flag before any benchmark ran).
  const int threads = pollwake::bench::ThreadsInProcess();
  if (!threaded && (threads != 1 || !__libc_single_threaded)) {
    std::fprintf(stderr,
                 "bench_main: %d threads at exit, __libc_single_threaded=%d; a single-thread "
                 "binary must start none\n",
                 threads, __libc_single_threaded ? 1 : 0);
    return 1;
  }
#endif
  return 0;
}
