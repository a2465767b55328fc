// bench/local_pool_bench.cc: what a LocalPool task costs on one thread.
//
// What it measures: ns_per_op of two workloads of the workload definitions on
// executor/local_pool.h:
//   BM_localpool_spawn_run/1000       one trivial task (ready at its first
//                                     poll) spawned and run to completion;
//                                     a round spawns 1000, then run()s
//   BM_localpool_yield_pingpong/1000  one yield (wake self, return Pending)
//                                     by one of two tasks that each yield
//                                     K = 1000 times; operations = 2K
// and variants of the first that defeat the pool's block cache (rounds
// larger than the cache, a new pool per round, tasks of mixed sizes) or
// clone the waker in each task (as real I/O does).
// How: the single-thread binary (no thread started; bench_main.cc checks);
// RunBatches (bench_util.h) times one round per iteration and reports
// allocs_per_op. The argument is the round size (1000 tasks) or K, shown in
// the name as the workload definitions' example does.
#include <benchmark/benchmark.h>

#include <array>
#include <cstddef>
#include <cstdint>

#include "bench/bench_util.h"
#include "executor/local_pool.h"
#include "poll/ready.h"
#include "poll/waker.h"

namespace pollwake::bench {
namespace {

// [START localpool_spawn_run]
// SpawnRun: rounds of `round` trivial tasks on one pool; a round spawns
// them all, then run()s.
void SpawnRun(benchmark::State& state, std::uint64_t round) {
  LocalPool pool;
  LocalSpawner spawner = pool.spawner();
  std::uint64_t done = 0;
  RunBatches(state, static_cast<double>(round), [&] {
    for (std::uint64_t i = 0; i < round; ++i) {
      spawner.spawn_local(poll_fn([&done](Context&) -> Poll<Unit> {
        ++done;
        return Ready();
      }));
    }
    pool.run();  // polls each task once; each returns Ready and is freed
  });
  if (done < static_cast<std::uint64_t>(state.iterations()) * round) {
    state.SkipWithError("not every task ran");
  }
}
// [END localpool_spawn_run]

// The workload as defined (rounds of 1000 on one pool). Its steady state
// allocates nothing: the pool's block cache keeps the blocks of a whole
// round of 1000 and hands them back to the next round, so after the first
// round spawn never reaches operator new (allocs_per_op is 0). The variants
// below are the cases a user meets where the cache does not hold the work.
void BM_localpool_spawn_run(benchmark::State& state) {
  SpawnRun(state, static_cast<std::uint64_t>(state.range(0)));
}
POLLWAKE_WORKLOAD(BM_localpool_spawn_run)->Arg(1000);

// /round:10000: rounds larger than the cache (it keeps at most 128 KiB of
// blocks per size class), so most blocks come from operator new and go back
// to it.
void BM_localpool_spawn_run_big_round(benchmark::State& state) { SpawnRun(state, 10000); }

// /new_pool: a new LocalPool per round of 1000, so each round starts with an
// empty cache (a pool made for one batch of work, then dropped).
void BM_localpool_spawn_run_new_pool(benchmark::State& state) {
  std::uint64_t done = 0;
  RunBatches(state, 1000, [&] {
    LocalPool pool;
    LocalSpawner spawner = pool.spawner();
    for (int i = 0; i < 1000; ++i) {
      spawner.spawn_local(poll_fn([&done](Context&) -> Poll<Unit> {
        ++done;
        return Ready();
      }));
    }
    pool.run();
  });
}

// WithPayload<N>: a task that carries N words (as a future that holds
// state does) and touches them once.
template <std::size_t N>
auto WithPayload(std::uint64_t v, std::uint64_t& done) {
  std::array<std::uint64_t, N> payload;
  payload.fill(v);
  return poll_fn([payload, &done](Context&) -> Poll<Unit> {
    benchmark::DoNotOptimize(&payload);
    ++done;
    return Ready();
  });
}

// /mixed: tasks of four sizes in turn (no payload, 4, 16 and 64 words), so
// the blocks fall into several size classes, as in a program that spawns
// different futures.
void BM_localpool_spawn_run_mixed(benchmark::State& state) {
  LocalPool pool;
  LocalSpawner spawner = pool.spawner();
  std::uint64_t done = 0;
  RunBatches(state, 1000, [&] {
    for (std::uint64_t i = 0; i < 1000; ++i) {
      switch (i % 4) {
        case 0:
          spawner.spawn_local(poll_fn([&done](Context&) -> Poll<Unit> {
            ++done;
            return Ready();
          }));
          break;
        case 1:
          spawner.spawn_local(WithPayload<4>(i, done));
          break;
        case 2:
          spawner.spawn_local(WithPayload<16>(i, done));
          break;
        default:
          spawner.spawn_local(WithPayload<64>(i, done));
          break;
      }
    }
    pool.run();
  });
}

// /clone_waker: each task clones its waker and drops the clone, as a task
// that registers with an I/O source or a channel does.
void BM_localpool_spawn_run_clone_waker(benchmark::State& state) {
  LocalPool pool;
  LocalSpawner spawner = pool.spawner();
  std::uint64_t done = 0;
  RunBatches(state, 1000, [&] {
    for (int i = 0; i < 1000; ++i) {
      spawner.spawn_local(poll_fn([&done](Context& cx) -> Poll<Unit> {
        Waker w = cx.waker();
        benchmark::DoNotOptimize(&w);
        ++done;
        return Ready();
      }));
    }
    pool.run();
  });
}

[[maybe_unused]] const bool kVariants = [] {
  RegisterWorkload("BM_localpool_spawn_run/round:10000", &BM_localpool_spawn_run_big_round);
  RegisterWorkload("BM_localpool_spawn_run/new_pool", &BM_localpool_spawn_run_new_pool);
  RegisterWorkload("BM_localpool_spawn_run/mixed", &BM_localpool_spawn_run_mixed);
  RegisterWorkload("BM_localpool_spawn_run/clone_waker", &BM_localpool_spawn_run_clone_waker);
  return true;
}();

void BM_localpool_yield_pingpong(benchmark::State& state) {
  const auto k = static_cast<std::uint64_t>(state.range(0));
  LocalPool pool;
  LocalSpawner spawner = pool.spawner();
  RunBatches(state, 2.0 * static_cast<double>(k), [&] {
    spawner.spawn_local(Yielder(k));
    spawner.spawn_local(Yielder(k));
    pool.run();
  });
}
POLLWAKE_WORKLOAD(BM_localpool_yield_pingpong)->Arg(1000);

// ---- LocalPool beside ThreadPool on the same work (thread_pool_bench.cc has
// the ThreadPool side). The runner reads these from the --pollwake_threaded
// run, so that both sides run in a process that has started threads.

void BM_pool_compare_spawn_run_local(benchmark::State& state) {
  LocalPool pool;
  LocalSpawner spawner = pool.spawner();
  RunBatches(state, 1000, [&] {
    Latch latch(1000);
    for (int i = 0; i < 1000; ++i) spawner.spawn_local(CountDownTask(&latch));
    pool.run();
    latch.wait();  // already 0: keeps the work identical to the ThreadPool side
  });
}
BENCHMARK(BM_pool_compare_spawn_run_local)->Name("BM_pool_compare/spawn_run/local_pool");

void BM_pool_compare_pingpong_local(benchmark::State& state) {
  LocalPool pool;
  LocalSpawner spawner = pool.spawner();
  RunBatches(state, 2.0 * 1000, [&] {
    Latch latch(2);
    spawner.spawn_local(YieldThenCountDown(1000, &latch));
    spawner.spawn_local(YieldThenCountDown(1000, &latch));
    pool.run();
    latch.wait();
  });
}
BENCHMARK(BM_pool_compare_pingpong_local)->Name("BM_pool_compare/yield_pingpong/local_pool");

}  // namespace
}  // namespace pollwake::bench
