// bench/waker_bench.cc: what a Waker costs, by kind of waker and by call.
//
// What it measures: ns_per_op for the four waker workloads of the workload definitions
// (waker_clone_drop, waker_wake_by_ref_arc, waker_wake_by_ref_static,
// waker_fn_wake), and the wake strategies beside them: clone + drop and
// wake_by_ref for every kind of waker (Arc through waker_from, a hand-built
// static vtable, waker_fn, the noop waker), and the consuming wake against
// wake_by_ref followed by drop.
//
// How: each benchmark holds one waker and calls the operation in batches of
// kBatch per iteration (RunBatches, bench_util.h, which also reports
// allocs_per_op); benchmark::DoNotOptimize on the waker's address stops the
// compiler from proving the call away, as the Rust peer's do_not_optimize
// does. The waker_fn closure bumps a global counter, as the Rust peer's does. Linked into the single-thread binary: the process has
// started no other thread, so the Arc's locked increments are the whole cost.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>

#include "bench/bench_util.h"
#include "poll/arc.h"
#include "poll/raw_waker.h"
#include "poll/wake.h"
#include "poll/waker.h"
#include "poll/waker_fn.h"

namespace pollwake::bench {
namespace {

// Counter: an Arc-based waker whose wake does a relaxed atomic increment.
struct Counter {
  mutable std::atomic<std::uint64_t> wakes{0};
  void wake_by_ref() const {
    // ORDERING: relaxed; the count is read only after the benchmark loop, on
    // this same thread.
    wakes.fetch_add(1, std::memory_order_relaxed);
  }
};

// The static-vtable waker: no allocation, no reference count; wake sets a
// global flag (the workload waker_wake_by_ref_static).
std::atomic<bool> g_woken{false};

// [START static_vtable]
RawWaker StaticClone(const void*);
void StaticWake(const void*) {
  // ORDERING: relaxed; the flag is a signal with no data behind it.
  g_woken.store(true, std::memory_order_relaxed);
}
void StaticDrop(const void*) {}
constexpr RawWakerVTable kStaticVTable{&StaticClone, &StaticWake, &StaticWake, &StaticDrop};
RawWaker StaticClone(const void*) { return RawWaker{nullptr, &kStaticVTable}; }
// [END static_vtable]

Waker StaticWaker() { return Waker::from_raw(RawWaker{nullptr, &kStaticVTable}); }

Waker ArcWaker(Arc<Counter>& counter) { return waker_from(counter); }

// The waker_fn closure captures nothing and bumps a global, as the Rust
// peer's closure (waker-fn crate) does.
std::atomic<std::uint64_t> g_fn_hits{0};
Waker FnWaker() {
  return waker_fn([] {
    // ORDERING: relaxed, as Counter above.
    g_fn_hits.fetch_add(1, std::memory_order_relaxed);
  });
}

// ---- the four workloads
//
// Each iteration is a batch of kBatch operations (bench_util.h), and each
// operation is fenced as the Rust peer fences it: DoNotOptimize on the
// waker before the call (and on the clone after it), the Rust side's
// do_not_optimize being the same inline-asm barrier.

// [START clone_drop]
void BM_waker_clone_drop(benchmark::State& state) {
  auto counter = Arc<Counter>::make();
  Waker waker = waker_from(counter);
  RunBatches(state, kBatch, [&] {
    for (int i = 0; i < kBatch; ++i) {
      benchmark::DoNotOptimize(&waker);
      Waker clone = waker;  // vtable->clone: one relaxed increment
      benchmark::DoNotOptimize(&clone);
    }  // ~Waker: vtable->drop, one acq_rel decrement
  });
}
// [END clone_drop]
POLLWAKE_WORKLOAD(BM_waker_clone_drop);

// WakeByRefBatches: kBatch wake_by_ref calls per iteration.
// `w` is a local reference, as the Rust loop's `w: &Waker` parameter is: a
// captured reference lives in the closure, and the barrier's memory clobber
// made g++ reload it from there on every call, one load more per wake than
// the Rust peer does.
void WakeByRefBatches(benchmark::State& state, Waker& waker) {
  RunBatches(state, kBatch, [&] {
    Waker& w = waker;
    for (int i = 0; i < kBatch; ++i) {
      benchmark::DoNotOptimize(&w);
      w.wake_by_ref();
    }
  });
}

void BM_waker_wake_by_ref_arc(benchmark::State& state) {
  auto counter = Arc<Counter>::make();
  Waker waker = ArcWaker(counter);
  WakeByRefBatches(state, waker);
  if (counter->wakes.load(std::memory_order_relaxed) <
      static_cast<std::uint64_t>(state.iterations()) * kBatch) {
    state.SkipWithError("wake count does not match");
  }
}
POLLWAKE_WORKLOAD(BM_waker_wake_by_ref_arc);

void BM_waker_wake_by_ref_static(benchmark::State& state) {
  Waker waker = StaticWaker();
  WakeByRefBatches(state, waker);
  if (!g_woken.load(std::memory_order_relaxed)) state.SkipWithError("never woken");
}
POLLWAKE_WORKLOAD(BM_waker_wake_by_ref_static);

void BM_waker_fn_wake(benchmark::State& state) {
  Waker waker = FnWaker();
  const std::uint64_t before = g_fn_hits.load(std::memory_order_relaxed);
  WakeByRefBatches(state, waker);
  if (g_fn_hits.load(std::memory_order_relaxed) - before <
      static_cast<std::uint64_t>(state.iterations()) * kBatch) {
    state.SkipWithError("waker_fn closure not called");
  }
}
POLLWAKE_WORKLOAD(BM_waker_fn_wake);

// ---- strategies: every kind of waker, clone + drop and wake_by_ref

enum Kind : int { kArc = 0, kStatic = 1, kFn = 2, kNoop = 3 };
const char* const kKindNames[] = {"arc", "static", "waker_fn", "noop"};

Waker MakeWaker(int kind, Arc<Counter>& counter) {
  switch (kind) {
    case kArc:
      return ArcWaker(counter);
    case kStatic:
      return StaticWaker();
    case kFn:
      return FnWaker();
    default:
      return Waker::noop();
  }
}

// BM_waker_clone_drop_by_kind/<kind>: the clone cost of each kind of waker.
void BM_waker_clone_drop_by_kind(benchmark::State& state) {
  auto counter = Arc<Counter>::make();
  Waker waker = MakeWaker(static_cast<int>(state.range(0)), counter);
  state.SetLabel(kKindNames[state.range(0)]);
  RunBatches(state, kBatch, [&] {
    for (int i = 0; i < kBatch; ++i) {
      benchmark::DoNotOptimize(&waker);
      Waker clone = waker;
      benchmark::DoNotOptimize(&clone);
    }
  });
}
BENCHMARK(BM_waker_clone_drop_by_kind)->ArgName("kind")->DenseRange(kArc, kNoop);

// BM_waker_wake_by_ref_by_kind/<kind>: one wake_by_ref on each kind.
void BM_waker_wake_by_ref_by_kind(benchmark::State& state) {
  auto counter = Arc<Counter>::make();
  Waker waker = MakeWaker(static_cast<int>(state.range(0)), counter);
  state.SetLabel(kKindNames[state.range(0)]);
  WakeByRefBatches(state, waker);
}
BENCHMARK(BM_waker_wake_by_ref_by_kind)->ArgName("kind")->DenseRange(kArc, kNoop);

// ---- strategies: consuming wake against wake_by_ref + drop
//
// A consuming wake needs a fresh waker each time, so both sides start from a
// clone: `clone; wake()` against `clone; wake_by_ref(); drop`. For an Arc
// waker the difference is what wake saves by reusing the reference it
// consumes (Rust's ArcWake: wake defaults to wake_by_ref then drop).

// [START wake_vs_by_ref]
void BM_waker_wake_consume(benchmark::State& state) {
  auto counter = Arc<Counter>::make();
  Waker waker = MakeWaker(static_cast<int>(state.range(0)), counter);
  state.SetLabel(kKindNames[state.range(0)]);
  RunBatches(state, kBatch, [&] {
    for (int i = 0; i < kBatch; ++i) {
      Waker clone = waker;
      benchmark::DoNotOptimize(&clone);
      std::move(clone).wake();  // consumes: no drop afterwards
    }
  });
}

void BM_waker_wake_by_ref_then_drop(benchmark::State& state) {
  auto counter = Arc<Counter>::make();
  Waker waker = MakeWaker(static_cast<int>(state.range(0)), counter);
  state.SetLabel(kKindNames[state.range(0)]);
  RunBatches(state, kBatch, [&] {
    for (int i = 0; i < kBatch; ++i) {
      Waker clone = waker;
      benchmark::DoNotOptimize(&clone);
      clone.wake_by_ref();
    }  // the clone is dropped here
  });
}
// [END wake_vs_by_ref]
BENCHMARK(BM_waker_wake_consume)->ArgName("kind")->DenseRange(kArc, kNoop);
BENCHMARK(BM_waker_wake_by_ref_then_drop)->ArgName("kind")->DenseRange(kArc, kNoop);

// BM_waker_make_drop/<kind>: building a waker from scratch and dropping it
// (waker_from on a fresh Arc allocates once; waker_fn likewise; the static
// and noop wakers allocate nothing).
void BM_waker_make_drop(benchmark::State& state) {
  const int kind = static_cast<int>(state.range(0));
  state.SetLabel(kKindNames[kind]);
  RunBatches(state, kBatch, [&] {
    for (int i = 0; i < kBatch; ++i) {
      if (kind == kArc) {
        auto counter = Arc<Counter>::make();
        Waker w = waker_from(std::move(counter));
        benchmark::DoNotOptimize(&w);
      } else if (kind == kFn) {
        Waker w = FnWaker();
        benchmark::DoNotOptimize(&w);
      } else if (kind == kStatic) {
        Waker w = StaticWaker();
        benchmark::DoNotOptimize(&w);
      } else {
        Waker w = Waker::noop();
        benchmark::DoNotOptimize(&w);
      }
    }
  });
}
BENCHMARK(BM_waker_make_drop)->ArgName("kind")->DenseRange(kArc, kNoop);

}  // namespace
}  // namespace pollwake::bench
