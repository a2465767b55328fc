// bench/ffi_bench.cc: what crossing the C ABI of interop/ffi costs (the
// async-ffi crate's layout), beside the same work done directly. Its Rust
// twin, the real crate doing the same, is bench/peers/ffi_rust.
//
//   BM_ffi_poll_ready/direct      poll a ready future (ReadyFuture<uint32_t>)
//   BM_ffi_poll_ready/c_abi       poll the same future through FfiFuture:
//                                 borrowed waker on the stack, FfiContext,
//                                 an indirect call to poll_fn, FfiPoll back
//   BM_ffi_waker_clone_drop/direct        clone and drop an Arc waker
//   BM_ffi_waker_clone_drop/c_abi         the same waker seen through the
//                                         C ABI (the future's cx.waker()):
//                                         the first clone of the borrowed
//                                         waker allocates, drop frees
//   BM_ffi_waker_clone_drop/c_abi_shared  clone and drop a clone of that
//                                         clone (pollwake shares it: one
//                                         atomic increment; the crate
//                                         allocates again)
//
// One operation is one poll, or one clone plus its drop. Each iteration
// times a batch of kBatch operations with the steady clock (set-up, such as
// making the futures to poll, is outside the timed span) and ns_per_op is the
// timed total over all operations.
#include <benchmark/benchmark.h>

#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <vector>

#include "bench/bench_util.h"
#include "interop/ffi/ffi_future.h"
#include "poll/arc.h"
#include "poll/context.h"
#include "poll/poll.h"
#include "poll/ready.h"
#include "poll/wake.h"
#include "poll/waker.h"

namespace pollwake::bench {
namespace {

constexpr int kBatch = 1000;
using Clock = std::chrono::steady_clock;

double elapsed_ns(Clock::time_point since) {
  return std::chrono::duration<double, std::nano>(Clock::now() - since).count();
}

// This thread's CPU time: on a loaded machine the wall-clock span also
// counts time spent waiting for a CPU; the report shows both.
double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

// A timed span: wall-clock and CPU nanoseconds added to the totals.
struct Span {
  double* wall;
  double* cpu;
  Clock::time_point start = Clock::now();
  double cpu_start = thread_cpu_ns();
  ~Span() {
    *wall += elapsed_ns(start);
    *cpu += thread_cpu_ns() - cpu_start;
  }
};

void report(benchmark::State& state, double wall, double cpu) {
  const double ops = static_cast<double>(state.iterations()) * kBatch;
  OpClock::set_ns_per_op_from(state, wall, ops);
  state.counters["cpu_ns_per_op"] = benchmark::Counter(ops > 0 ? cpu / ops : 0.0);
}

// [START bench_poll_ready]
void BM_ffi_poll_ready(benchmark::State& state, bool through_c_abi) {
  Context cx = Context::from_waker(Waker::noop());
  std::vector<ReadyFuture<uint32_t>> direct;
  std::vector<ffi::FfiFuture<uint32_t>> crossing;
  double ns = 0, cpu = 0;
  uint64_t sum = 0;
  for (auto _ : state) {
    direct.clear();
    crossing.clear();
    for (int i = 0; i < kBatch; ++i) {
      if (through_c_abi) {
        crossing.push_back(ffi::into_ffi(ready(static_cast<uint32_t>(i))));
      } else {
        direct.push_back(ready(static_cast<uint32_t>(i)));
      }
    }
    {
      Span span{&ns, &cpu};
      if (through_c_abi) {
        for (auto& f : crossing) sum += f.poll(cx).value();
      } else {
        for (auto& f : direct) sum += f.poll(cx).value();
      }
    }
    benchmark::DoNotOptimize(sum);
  }
  report(state, ns, cpu);
}
// [END bench_poll_ready]
BENCHMARK_CAPTURE(BM_ffi_poll_ready, direct, false);
BENCHMARK_CAPTURE(BM_ffi_poll_ready, c_abi, true);

struct CountWake {
  mutable std::atomic<uint64_t> wakes{0};
  void wake_by_ref() const { wakes.fetch_add(1, std::memory_order_relaxed); }
};

enum class CloneKind { kDirect, kCAbi, kCAbiShared };

// Clones cx.waker() (or a clone of it) kBatch times per poll; Pending.
struct CloneBatch {
  using Output = uint32_t;
  CloneKind kind;
  double* ns;
  double* cpu;
  Poll<uint32_t> poll(Context& cx) {
    if (kind == CloneKind::kCAbiShared) {
      Waker first = cx.waker();  // the one allocation, off the clock
      clone_drop(first, ns, cpu);
    } else {
      clone_drop(cx.waker(), ns, cpu);
    }
    return Pending;
  }
  static void clone_drop(const Waker& w, double* ns, double* cpu) {
    Span span{ns, cpu};
    for (int i = 0; i < kBatch; ++i) {
      Waker clone = w;
      benchmark::DoNotOptimize(&clone);
    }
  }
};

// [START bench_clone_drop]
void BM_ffi_waker_clone_drop(benchmark::State& state, CloneKind kind) {
  Waker waker = waker_from(Arc<CountWake>::make());
  Context cx = Context::from_waker(waker);
  double ns = 0, cpu = 0;
  if (kind == CloneKind::kDirect) {
    for (auto _ : state) CloneBatch::clone_drop(waker, &ns, &cpu);
  } else {
    ffi::FfiFuture<uint32_t> f = ffi::into_ffi(CloneBatch{kind, &ns, &cpu});
    for (auto _ : state) benchmark::DoNotOptimize(f.poll(cx));
  }
  report(state, ns, cpu);
}
// [END bench_clone_drop]
BENCHMARK_CAPTURE(BM_ffi_waker_clone_drop, direct, CloneKind::kDirect);
BENCHMARK_CAPTURE(BM_ffi_waker_clone_drop, c_abi, CloneKind::kCAbi);
BENCHMARK_CAPTURE(BM_ffi_waker_clone_drop, c_abi_shared, CloneKind::kCAbiShared);

}  // namespace
}  // namespace pollwake::bench
