// bench/local_pool_bench.cc: what a LocalPool task costs on one thread.
//
// What it measures: ns_per_op of two workloads of bench/WORKLOADS.md on
// executor/local_pool.h:
//   BM_localpool_spawn_run/1000       one trivial task (ready at its first
//                                     poll) spawned and run to completion;
//                                     a round spawns 1000, then run()s
//   BM_localpool_yield_pingpong/1000  one yield (wake self, return Pending)
//                                     by one of two tasks that each yield
//                                     K = 1000 times; operations = 2K
// How: the single-thread binary (no thread started; bench_main.cc checks),
// one pool for the whole benchmark, so the figure is the steady state of
// spawn (one allocation), queue push/pop, poll, and free, with the pool's
// allocations already warm. The argument is the round size (1000 tasks) or
// K, shown in the name as bench/WORKLOADS.md's example does.
#include <benchmark/benchmark.h>

#include <cstdint>

#include "bench/bench_util.h"
#include "executor/local_pool.h"
#include "poll/ready.h"

namespace pollwake::bench {
namespace {

// [START localpool_spawn_run]
void BM_localpool_spawn_run(benchmark::State& state) {
  const auto round = static_cast<std::uint64_t>(state.range(0));
  LocalPool pool;
  LocalSpawner spawner = pool.spawner();
  std::uint64_t done = 0;
  OpClock clock;
  for (auto _ : state) {
    for (std::uint64_t i = 0; i < round; ++i) {
      spawner.spawn_local(poll_fn([&done](Context&) -> Poll<Unit> {
        ++done;
        return Ready();
      }));
    }
    pool.run();  // polls each task once; each returns Ready and is freed
  }
  clock.set_ns_per_op(state, static_cast<double>(round));
  if (done != static_cast<std::uint64_t>(state.iterations()) * round) {
    state.SkipWithError("not every task ran");
  }
}
// [END localpool_spawn_run]
POLLWAKE_WORKLOAD(BM_localpool_spawn_run)->Arg(1000);

void BM_localpool_yield_pingpong(benchmark::State& state) {
  const auto k = static_cast<std::uint64_t>(state.range(0));
  LocalPool pool;
  LocalSpawner spawner = pool.spawner();
  OpClock clock;
  for (auto _ : state) {
    spawner.spawn_local(Yielder(k));
    spawner.spawn_local(Yielder(k));
    pool.run();
  }
  clock.set_ns_per_op(state, 2.0 * static_cast<double>(k));
}
POLLWAKE_WORKLOAD(BM_localpool_yield_pingpong)->Arg(1000);

// ---- LocalPool beside ThreadPool on the same work (thread_pool_bench.cc has
// the ThreadPool side). The runner reads these from the --pollwake_threaded
// run, so that both sides run in a process that has started threads.

void BM_pool_compare_spawn_run_local(benchmark::State& state) {
  LocalPool pool;
  LocalSpawner spawner = pool.spawner();
  OpClock clock;
  for (auto _ : state) {
    Latch latch(1000);
    for (int i = 0; i < 1000; ++i) spawner.spawn_local(CountDownTask(&latch));
    pool.run();
    latch.wait();  // already 0: keeps the work identical to the ThreadPool side
  }
  clock.set_ns_per_op(state, 1000);
}
BENCHMARK(BM_pool_compare_spawn_run_local)->Name("BM_pool_compare/spawn_run/local_pool");

void BM_pool_compare_pingpong_local(benchmark::State& state) {
  LocalPool pool;
  LocalSpawner spawner = pool.spawner();
  OpClock clock;
  for (auto _ : state) {
    Latch latch(2);
    spawner.spawn_local(YieldThenCountDown(1000, &latch));
    spawner.spawn_local(YieldThenCountDown(1000, &latch));
    pool.run();
    latch.wait();
  }
  clock.set_ns_per_op(state, 2.0 * 1000);
}
BENCHMARK(BM_pool_compare_pingpong_local)->Name("BM_pool_compare/yield_pingpong/local_pool");

}  // namespace
}  // namespace pollwake::bench
