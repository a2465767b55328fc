// bench/future_kinds_bench.cc: the same small job as a hand-written state
// machine, as a lazy C++20 coroutine (interop/coro, Rust's async fn) and as
// an eager C#-style Task (interop/csharp).
//
// What it measures: ns per future, made and driven to completion, for two
// jobs:
//   BM_future_kind/ready/<kind>  produce a value at once
//   BM_future_kind/yield/<kind>  suspend once, then produce the value
// with <kind> one of
//   state_machine  a struct with a poll method (ready(v); a YieldOnce-style
//                  struct): no allocation
//   coroutine      coro::Async<T>: one frame allocation per future, resumed
//                  by poll; `co_await YieldOnce()` for the suspension
//   csharp_task    csharp::Task<T>: eager, runs at the call; the suspension
//                  is an await on a TaskCompletionSource that the benchmark
//                  completes, which resumes the body inline
// How: the lazy kinds are polled directly with the noop waker (no executor),
// so the figure is the future's own cost; the single-thread binary (no
// thread started; bench_main.cc checks).
#include <benchmark/benchmark.h>

#include <cstdint>

#include "bench/bench_util.h"
#include "interop/coro/async_fn.h"
#include "interop/csharp/task.h"
#include "interop/csharp/task_completion_source.h"
#include "poll/context.h"
#include "poll/ready.h"
#include "poll/waker.h"

namespace pollwake::bench {
namespace {

// A hand-written future that suspends once, then returns its value.
class YieldThenValue {
 public:
  using Output = std::uint64_t;
  explicit YieldThenValue(std::uint64_t v) : v_(v) {}
  Poll<std::uint64_t> poll(Context& cx) {
    if (yielded_) return Ready(v_);
    yielded_ = true;
    cx.waker().wake_by_ref();
    return Pending;
  }

 private:
  std::uint64_t v_;
  bool yielded_ = false;
};

coro::Async<std::uint64_t> CoroReady(std::uint64_t v) { co_return v; }
coro::Async<std::uint64_t> CoroYield(std::uint64_t v) {
  co_await YieldOnce();
  co_return v;
}
csharp::Task<std::uint64_t> TaskReady(std::uint64_t v) { co_return v; }
csharp::Task<std::uint64_t> TaskAwait(csharp::Task<std::uint64_t> t) {
  std::uint64_t v = co_await t;
  co_return v;
}

// Polls `f` until Ready with the noop waker; returns its value.
template <class F>
std::uint64_t Drive(F& f) {
  Context cx = Context::from_waker(Waker::noop());
  for (;;) {
    Poll<std::uint64_t> p = f.poll(cx);
    if (p.is_ready()) return p.value();
  }
}

void BM_ready_state_machine(benchmark::State& state) {
  std::uint64_t sum = 0, i = 0;
  OpClock clock;
  for (auto _ : state) {
    auto f = ready(i++);
    sum += Drive(f);
  }
  benchmark::DoNotOptimize(sum);
  clock.set_ns_per_op(state, 1);
}

void BM_ready_coroutine(benchmark::State& state) {
  std::uint64_t sum = 0, i = 0;
  OpClock clock;
  for (auto _ : state) {
    auto f = CoroReady(i++);
    sum += Drive(f);
  }
  benchmark::DoNotOptimize(sum);
  clock.set_ns_per_op(state, 1);
}

void BM_ready_csharp_task(benchmark::State& state) {
  std::uint64_t sum = 0, i = 0;
  OpClock clock;
  for (auto _ : state) sum += TaskReady(i++).GetResult();
  benchmark::DoNotOptimize(sum);
  clock.set_ns_per_op(state, 1);
}

void BM_yield_state_machine(benchmark::State& state) {
  std::uint64_t sum = 0, i = 0;
  OpClock clock;
  for (auto _ : state) {
    YieldThenValue f(i++);
    sum += Drive(f);
  }
  benchmark::DoNotOptimize(sum);
  clock.set_ns_per_op(state, 1);
}

void BM_yield_coroutine(benchmark::State& state) {
  std::uint64_t sum = 0, i = 0;
  OpClock clock;
  for (auto _ : state) {
    auto f = CoroYield(i++);
    sum += Drive(f);
  }
  benchmark::DoNotOptimize(sum);
  clock.set_ns_per_op(state, 1);
}

void BM_yield_csharp_task(benchmark::State& state) {
  std::uint64_t sum = 0, i = 0;
  OpClock clock;
  for (auto _ : state) {
    csharp::TaskCompletionSource<std::uint64_t> tcs;
    csharp::Task<std::uint64_t> t = TaskAwait(tcs.Task());  // runs until the await, suspends
    tcs.SetResult(i++);                                     // resumes the body inline
    sum += t.GetResult();
  }
  benchmark::DoNotOptimize(sum);
  clock.set_ns_per_op(state, 1);
}

BENCHMARK(BM_ready_state_machine)->Name("BM_future_kind/ready/state_machine");
BENCHMARK(BM_ready_coroutine)->Name("BM_future_kind/ready/coroutine");
BENCHMARK(BM_ready_csharp_task)->Name("BM_future_kind/ready/csharp_task");
BENCHMARK(BM_yield_state_machine)->Name("BM_future_kind/yield/state_machine");
BENCHMARK(BM_yield_coroutine)->Name("BM_future_kind/yield/coroutine");
BENCHMARK(BM_yield_csharp_task)->Name("BM_future_kind/yield/csharp_task");

}  // namespace
}  // namespace pollwake::bench
