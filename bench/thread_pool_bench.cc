// bench/thread_pool_bench.cc: what a ThreadPool task costs, and LocalPool
// beside ThreadPool on the same work.
//
// What it measures:
//   BM_threadpool_spawn/1000   (a defined workload) one trivial task spawned from
//                              the main thread onto a ThreadPool of 2
//                              workers; a round spawns 1000, each task counts
//                              down a Latch, and the main thread parks until
//                              it reaches 0
//   BM_pool_compare/<work>/thread_pool/workers:<n>   the same work as the
//                              LocalPool side in local_pool_bench.cc, on a
//                              ThreadPool of 1 and 2 workers: `spawn_run`
//                              (1000 trivial tasks) and `yield_pingpong` (two
//                              tasks yielding 1000 times each, then counting
//                              down the latch); ns_per_op as above. (The
//                              LocalPool side lives in the other binary
//                              because executor/local_pool.h and
//                              thread_pool.h cannot yet be included together;
//                              the runner runs it after starting a thread, so
//                              both sides run in a multi-threaded process.)
// How: the threaded binary; the pool is built once per benchmark run, off
// the clock. UseRealTime, because the work happens on the workers while the
// main thread sleeps; cpu_ns_per_op then counts every thread of the process.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>

#include "bench/bench_util.h"
#include "executor/thread_pool.h"

namespace pollwake::bench {
namespace {

constexpr std::uint64_t kRound = 1000;
constexpr std::uint64_t kYields = 1000;

// The same work, shared with local_pool_bench.cc: see bench_util.h.
ThreadPool MakePool(std::size_t workers) {
  return ThreadPool::builder().pool_size(workers).create();
}

// [START threadpool_spawn]
void BM_threadpool_spawn(benchmark::State& state) {
  const auto round = static_cast<std::uint64_t>(state.range(0));
  ThreadPool pool = MakePool(2);
  RunBatches(state, static_cast<double>(round), [&] {
    Latch latch(round);
    for (std::uint64_t i = 0; i < round; ++i) pool.spawn_ok(CountDownTask(&latch));
    latch.wait();  // parks until the last task has run
  });
}
// [END threadpool_spawn]
BENCHMARK(BM_threadpool_spawn)->Arg(kRound)->UseRealTime();

// ---- LocalPool vs ThreadPool on the same work

void BM_pool_compare_spawn_run_threads(benchmark::State& state) {
  ThreadPool pool = MakePool(static_cast<std::size_t>(state.range(0)));
  RunBatches(state, kRound, [&] {
    Latch latch(kRound);
    for (std::uint64_t i = 0; i < kRound; ++i) pool.spawn_ok(CountDownTask(&latch));
    latch.wait();
  });
}

void BM_pool_compare_pingpong_threads(benchmark::State& state) {
  ThreadPool pool = MakePool(static_cast<std::size_t>(state.range(0)));
  RunBatches(state, 2.0 * kYields, [&] {
    Latch latch(2);
    pool.spawn_ok(YieldThenCountDown(kYields, &latch));
    pool.spawn_ok(YieldThenCountDown(kYields, &latch));
    latch.wait();
  });
}

BENCHMARK(BM_pool_compare_spawn_run_threads)
    ->Name("BM_pool_compare/spawn_run/thread_pool")
    ->ArgName("workers")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime();
BENCHMARK(BM_pool_compare_pingpong_threads)
    ->Name("BM_pool_compare/yield_pingpong/thread_pool")
    ->ArgName("workers")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime();

}  // namespace
}  // namespace pollwake::bench
