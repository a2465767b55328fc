// bench/block_on_bench.cc: what block_on costs on one thread, by park strategy.
//
// What it measures: ns_per_op for two workloads of the workload definitions, each with
// pollwake's default block_on and then with every park strategy of
// executor/parker.h as a variant:
//   BM_block_on_ready[/<strategy>]  one block_on of a future ready at once
//   BM_block_on_yield[/<strategy>]  one block_on of a future that wakes
//                                   itself and returns Pending once, then
//                                   Ready (YieldOnce, bench_util.h)
// The strategies are condvar (mutex + condition variable), futex (C++20
// atomic wait/notify) and spin_then_park. On one thread the waker is woken
// during the poll, so park() always finds the notification and never
// sleeps: what differs is the cost of unpark + park on the fast path.
//
// How: batches of kBatch block_on calls per iteration (RunBatches,
// bench_util.h) in the single-thread binary (the process has started no
// thread; bench_main.cc checks).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "bench/bench_util.h"
#include "executor/block_on.h"
#include "executor/parker.h"
#include "poll/ready.h"

namespace pollwake::bench {
namespace {

// The input passes through DoNotOptimize (an inline-asm barrier: the
// compiler must assume it changed) and the outputs are summed into a value
// passed to DoNotOptimize, exactly as the Rust peer passes its input through
// opaque() and its sum through do_not_optimize(): without the first, a
// compiler that sees through block_on could fold the whole loop.
template <class Strategy>
void BlockOnReady(benchmark::State& state) {
  std::uint64_t i = 0;
  RunBatches(state, kBatch, [&] {
    std::uint64_t sum = 0;
    for (int k = 0; k < kBatch; ++k) {
      std::uint64_t x = i++;
      benchmark::DoNotOptimize(x);
      sum += block_on_with<Strategy>(ready(x));
    }
    benchmark::DoNotOptimize(sum);
  });
}

// [START block_on_yield]
template <class Strategy>
void BlockOnYield(benchmark::State& state) {
  RunBatches(state, kBatch, [&] {
    for (int k = 0; k < kBatch; ++k) {
      // First poll: wake_by_ref (unpark) and Pending; park() consumes the
      // notification at once; second poll: Ready.
      block_on_with<Strategy>(YieldOnce());
    }
  });
}
// [END block_on_yield]

void BM_block_on_ready(benchmark::State& state) {
  std::uint64_t i = 0;
  RunBatches(state, kBatch, [&] {
    std::uint64_t sum = 0;
    for (int k = 0; k < kBatch; ++k) {
      std::uint64_t x = i++;
      benchmark::DoNotOptimize(x);
      sum += block_on(ready(x));
    }
    benchmark::DoNotOptimize(sum);
  });
}
POLLWAKE_WORKLOAD(BM_block_on_ready);

void BM_block_on_yield(benchmark::State& state) {
  RunBatches(state, kBatch, [&] {
    for (int k = 0; k < kBatch; ++k) block_on(YieldOnce());
  });
}
POLLWAKE_WORKLOAD(BM_block_on_yield);

// The variants, one per strategy, registered as workloads too so that the
// threaded run reports them as well.
[[maybe_unused]] const bool kRegistered = [] {
  RegisterWorkload("BM_block_on_ready/condvar", &BlockOnReady<CondvarPark>);
  RegisterWorkload("BM_block_on_ready/futex", &BlockOnReady<FutexPark>);
  RegisterWorkload("BM_block_on_ready/spin_then_park", &BlockOnReady<SpinThenPark>);
  RegisterWorkload("BM_block_on_yield/condvar", &BlockOnYield<CondvarPark>);
  RegisterWorkload("BM_block_on_yield/futex", &BlockOnYield<FutexPark>);
  RegisterWorkload("BM_block_on_yield/spin_then_park", &BlockOnYield<SpinThenPark>);
  return true;
}();

}  // namespace
}  // namespace pollwake::bench
