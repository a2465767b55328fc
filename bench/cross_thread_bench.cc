// bench/cross_thread_bench.cc: a wake that crosses threads, by park strategy.
//
// What it measures: ns_per_op of the cross_thread_wake workload of
// the workload definitions: one round trip in which the main thread sends a ping over a
// oneshot (poll/oneshot.h) and block_on's the reply, while a helper thread,
// itself in block_on on the ping, wakes, and sends the reply. BM_cross_thread_wake
// uses block_on's default strategy; BM_cross_thread_wake/<strategy> uses
// block_on_with<Strategy> on both threads (condvar, futex, spin_then_park).
//
// How: both threads are pinned to the same CPU (sched_setaffinity), as in
// every peer: unpinned, the VM's idle-CPU wake-up latency of tens of
// microseconds would hide the code under test. So each round trip is two
// park/unpark handoffs through the kernel scheduler on one CPU; spinning
// before parking can only waste the CPU that the other thread needs.
// The 2 x N oneshots are made before the clock starts (state.max_iterations
// says how many), as in the Rust peer; the helper is started before the
// clock and joined after it.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <thread>
#include <utility>
#include <vector>

#include "bench/bench_util.h"
#include "executor/block_on.h"
#include "executor/parker.h"
#include "poll/oneshot.h"

namespace pollwake::bench {
namespace {

// [START cross_thread_wake]
template <class Strategy>
void CrossThreadWake(benchmark::State& state) {
  const int cpu = FirstAllowedCpu();
  AffinityGuard pin(cpu);
  const auto n = static_cast<std::size_t>(state.max_iterations);
  std::vector<oneshot::Sender<std::uint64_t>> ping_tx, reply_tx;
  std::vector<oneshot::Receiver<std::uint64_t>> ping_rx, reply_rx;
  for (std::size_t i = 0; i < n; ++i) {
    auto [a, b] = oneshot::channel<std::uint64_t>();
    auto [c, d] = oneshot::channel<std::uint64_t>();
    ping_tx.push_back(std::move(a));
    ping_rx.push_back(std::move(b));
    reply_tx.push_back(std::move(c));
    reply_rx.push_back(std::move(d));
  }
  std::thread helper([&] {
    PinToCpu(cpu);
    for (std::size_t i = 0; i < n; ++i) {
      std::uint64_t v = block_on_with<Strategy>(ping_rx[i]).value();  // parks
      (void)reply_tx[i].send(v + 1);                                    // wakes main
    }
  });
  std::size_t i = 0;
  bool ok = true;
  OpClock clock;
  for (auto _ : state) {
    (void)ping_tx[i].send(i);                                          // wakes helper
    ok &= block_on_with<Strategy>(reply_rx[i]).value() == i + 1;       // parks
    ++i;
  }
  clock.set_ns_per_op(state, 1);
  helper.join();
  if (!ok) state.SkipWithError("wrong reply");
}
// [END cross_thread_wake]

void BM_cross_thread_wake(benchmark::State& state) { CrossThreadWake<DefaultPark>(state); }
BENCHMARK(BM_cross_thread_wake)->UseRealTime();
BENCHMARK_TEMPLATE(CrossThreadWake, CondvarPark)->Name("BM_cross_thread_wake/condvar")->UseRealTime();
BENCHMARK_TEMPLATE(CrossThreadWake, FutexPark)->Name("BM_cross_thread_wake/futex")->UseRealTime();
BENCHMARK_TEMPLATE(CrossThreadWake, SpinThenPark)
    ->Name("BM_cross_thread_wake/spin_then_park")
    ->UseRealTime();

}  // namespace
}  // namespace pollwake::bench
