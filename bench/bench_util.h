// bench/bench_util.h: what every pollwake benchmark shares.
//
// What it measures: nothing by itself. It gives each benchmark the user
// counter `ns_per_op` that the workload definitions ask for: wall-clock nanoseconds per
// operation, where one operation is what the workload's definition says (a
// wake, one task, one round trip), however many of them an iteration holds.
//
// How: OpClock reads std::chrono::steady_clock when it is built (just before
// the `for (auto _ : state)` loop) and again in set_ns_per_op (just after),
// and divides by iterations x operations per iteration. It also reports
// `cpu_ns_per_op`, the process's CPU time over the same span, because on a
// shared machine wall-clock time includes time spent waiting for a CPU. Reading the clock
// ourselves, rather than asking Google Benchmark for a rate counter, keeps the
// figure wall-clock whatever the benchmark's time unit or UseRealTime setting.
// A benchmark that must keep set-up off the clock reports elapsed time itself
// through set_ns_per_op_from.
#ifndef POLLWAKE_BENCH_BENCH_UTIL_H_
#define POLLWAKE_BENCH_BENCH_UTIL_H_

#include <benchmark/benchmark.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "bench/alloc_count.h"
#include "poll/context.h"
#include "poll/poll.h"

namespace pollwake::bench {

class OpClock {
 public:
  OpClock() : start_(std::chrono::steady_clock::now()), cpu_start_(ProcessCpuNs()) {}

  // Sets state.counters["ns_per_op"] from the wall-clock time since
  // construction, and "cpu_ns_per_op" from the CPU time of the whole
  // process (all threads) over the same span.
  void set_ns_per_op(benchmark::State& state, double ops_per_iteration) const {
    double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start_)
                    .count();
    double ops = static_cast<double>(state.iterations()) * ops_per_iteration;
    set_ns_per_op_from(state, ns, ops);
    state.counters["cpu_ns_per_op"] = benchmark::Counter(ops > 0 ? (ProcessCpuNs() - cpu_start_) / ops : 0.0);
  }

  static void set_ns_per_op_from(benchmark::State& state, double ns, double ops) {
    state.counters["ns_per_op"] = benchmark::Counter(ops > 0 ? ns / ops : 0.0);
  }

  // ProcessCpuNs: CPU time used so far by every thread of this process. On a
  // loaded machine wall-clock time also counts time the benchmark spent
  // waiting for a CPU; this does not, so the report shows both.
  static double ProcessCpuNs() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
  }

 private:
  std::chrono::steady_clock::time_point start_;
  double cpu_start_;
};

// kBatch: operations per Google Benchmark iteration for the workloads whose
// operation is a few nanoseconds (wakers, block_on). The Rust and Asio peers
// time a tight loop of n operations; an iteration that held one operation
// would also pay the harness's per-iteration cost (its loop counter and
// branch) that the peers do not pay, so every row times batches.
inline constexpr int kBatch = 1000;

// RunBatches: the loop shape of every benchmark here. `batch()` performs
// `ops_per_batch` operations; each iteration runs one batch, and ns_per_op
// and cpu_ns_per_op are set as OpClock does. Then, off the clock and in the
// same warm state, it runs iterations/8 more batches (at least one) with the
// allocation counter on and sets `allocs_per_op`, as the Rust peer does with
// its counting global allocator.
template <class Batch>
void RunBatches(benchmark::State& state, double ops_per_batch, Batch&& batch) {
  OpClock clock;
  for (auto _ : state) batch();
  clock.set_ns_per_op(state, ops_per_batch);
  const std::int64_t extra = std::max<std::int64_t>(1, state.iterations() / 8);
  std::uint64_t allocs = 0;
  {
    CountAllocs counting;
    for (std::int64_t i = 0; i < extra; ++i) batch();
    allocs = counting.count();
  }
  state.counters["allocs_per_op"] =
      benchmark::Counter(static_cast<double>(allocs) / (static_cast<double>(extra) * ops_per_batch));
}

// YieldOnce: the future of the yield workloads, written out as in every peer
// (bench/peers/): the first poll wakes its own waker and returns Pending, the
// second returns Ready. (poll/yield_now.h does the same, with a guard against
// a third poll.)
class YieldOnce {
 public:
  using Output = Unit;
  Poll<Unit> poll(Context& cx) {
    if (yielded_) return Ready();
    yielded_ = true;
    cx.waker().wake_by_ref();
    return Pending;
  }

 private:
  bool yielded_ = false;
};

// Yielder: a task that yields `k` times (wake self, return Pending), then
// returns Ready: k + 1 polls, as `for _ in 0..k { YieldOnce.await }` in the
// Rust peer (localpool_yield_pingpong).
class Yielder {
 public:
  using Output = Unit;
  explicit Yielder(std::uint64_t k) : left_(k) {}
  Poll<Unit> poll(Context& cx) {
    if (left_ == 0) return Ready();
    --left_;
    cx.waker().wake_by_ref();
    return Pending;
  }

 private:
  std::uint64_t left_;
};

// FutexWait / FutexWake: the Linux futex calls, made directly. Rust's
// std::thread::park and Thread::unpark are these two calls. C++20's
// std::atomic::wait is not a drop-in twin: libstdc++ 12 calls sched_yield
// before it sleeps, and on a loaded machine that yield hands the CPU to
// another process for a whole time slice (docs/05_benchmarks.md shows the
// effect). So the harness's own waiting (Latch) uses the futex directly, as
// every peer's harness does.
inline void FutexWait(std::atomic<std::uint32_t>& word, std::uint32_t expected) {
  // Returns at once if word != expected (no lost wake-up), else sleeps until
  // FutexWake or a spurious return; the caller loops.
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected,
          nullptr, nullptr, 0);
}
inline void FutexWake(std::atomic<std::uint32_t>& word) {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, 1, nullptr,
          nullptr, 0);
}

// Latch: counted down once per task; the main thread sleeps on a futex until
// it reaches 0 (the Rust peer parks the thread: the same system calls).
class Latch {
 public:
  explicit Latch(std::uint32_t n) : count_(n) {}
  void count_down() {
    // ORDERING: acq_rel; the last count-down publishes every task's work to
    // the waiting thread, whose loads below are acquire.
    if (count_.fetch_sub(1, std::memory_order_acq_rel) == 1) FutexWake(count_);
  }
  void wait() {
    // ORDERING: acquire, pairs with the release half of count_down.
    for (std::uint32_t v; (v = count_.load(std::memory_order_acquire)) != 0;) FutexWait(count_, v);
  }

 private:
  std::atomic<std::uint32_t> count_;
};

// YieldThenCountDown: a task that yields k times, then counts a latch down
// (BM_pool_compare/yield_pingpong, run on LocalPool and on ThreadPool).
class YieldThenCountDown {
 public:
  using Output = Unit;
  YieldThenCountDown(std::uint64_t k, Latch* latch) : yielder_(k), latch_(latch) {}
  Poll<Unit> poll(Context& cx) {
    if (yielder_.poll(cx).is_pending()) return Pending;
    latch_->count_down();
    return Ready();
  }

 private:
  Yielder yielder_;
  Latch* latch_;
};

// CountDownTask: a trivial task that counts a latch down at its first poll.
class CountDownTask {
 public:
  using Output = Unit;
  explicit CountDownTask(Latch* latch) : latch_(latch) {}
  Poll<Unit> poll(Context&) {
    latch_->count_down();
    return Ready();
  }

 private:
  Latch* latch_;
};

// Workloads(): the benchmarks registered with POLLWAKE_WORKLOAD, with their
// base names. bench_main.cc renames them `<name>/threaded` when the process
// runs them after starting a thread (the workload definitions, "Fairness notes").
inline std::vector<std::pair<benchmark::internal::Benchmark*, std::string>>& Workloads() {
  static std::vector<std::pair<benchmark::internal::Benchmark*, std::string>> all;
  return all;
}

inline benchmark::internal::Benchmark* RegisterWorkload(const char* name,
                                                        void (*fn)(benchmark::State&)) {
  benchmark::internal::Benchmark* b = benchmark::RegisterBenchmark(name, fn);
  Workloads().emplace_back(b, name);
  return b;
}

// ThreadsInProcess: the "Threads:" line of /proc/self/status (0 if unknown).
inline int ThreadsInProcess() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return 0;
}

// FirstAllowedCpu: the lowest CPU this process may run on.
inline int FirstAllowedCpu() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 0;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) return cpu;
  }
  return 0;
}

// PinToCpu: pins the calling thread (tid 0 = the caller) to one CPU.
inline void PinToCpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof(set), &set) != 0) {
    throw std::runtime_error("sched_setaffinity failed");
  }
}

// AffinityGuard: pins the calling thread for its lifetime, then restores the
// mask it had (so one pinned benchmark does not pin the ones after it).
class AffinityGuard {
 public:
  explicit AffinityGuard(int cpu) {
    CPU_ZERO(&saved_);
    sched_getaffinity(0, sizeof(saved_), &saved_);
    PinToCpu(cpu);
  }
  AffinityGuard(const AffinityGuard&) = delete;
  AffinityGuard& operator=(const AffinityGuard&) = delete;
  ~AffinityGuard() { sched_setaffinity(0, sizeof(saved_), &saved_); }

 private:
  cpu_set_t saved_;
};

}  // namespace pollwake::bench

// POLLWAKE_WORKLOAD(BM_x): BENCHMARK(BM_x) for a single-thread workload of
// the workload definitions; chain ->Arg(...) etc. after it as after BENCHMARK.
#define POLLWAKE_WORKLOAD(fn)                                                  \
  [[maybe_unused]] static ::benchmark::internal::Benchmark* const              \
      pollwake_workload_##fn = ::pollwake::bench::RegisterWorkload(#fn, fn)

#endif  // POLLWAKE_BENCH_BENCH_UTIL_H_
