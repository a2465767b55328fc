// bench/recorder_bench.cc: what the recorder (executor/record/) costs a
// LocalPool in its three states.
//
// What it measures: ns_per_op of two LocalPool workloads (as in
// local_pool_bench.cc), with the state in the row's name:
//   BM_recorder_spawn_run/<state>       one trivial task spawned and run to
//                                       completion; a round spawns 1000,
//                                       then run()s
//   BM_recorder_yield_pingpong/<state>  one yield (wake self, Pending) by one
//                                       of two tasks that yield 1000 times
// States:
//   off_at_build          the default build: the hooks are compiled out, the
//                         executor is the code it is without the recorder
//   compiled_in_disabled  `--config=record`, no recorder attached: each
//                         spawn asks whether the pool is recorded (one
//                         relaxed load, and the environment recorder's
//                         static-init guard)
//   enabled               `--config=record`, a Recorder attached to the
//                         pool: every spawn, poll and wake is logged (made
//                         anew each round, so its log stays bounded)
// Compare off_at_build with compiled_in_disabled (run the binary once per
// build: `bash bench/run_recorder.sh`), and with BM_localpool_spawn_run and
// BM_localpool_yield_pingpong of single_thread_bench (the same workloads).
// How: the single-thread binary (bench_main.cc); RunBatches (bench_util.h).
#include <benchmark/benchmark.h>

#include <memory>

#include "bench/bench_util.h"
#include "executor/local_pool.h"
#include "executor/record/recorder.h"
#include "poll/ready.h"

namespace pollwake::bench {
namespace {

#if defined(POLLWAKE_RECORD) && POLLWAKE_RECORD
constexpr bool kCompiledIn = true;
#else
constexpr bool kCompiledIn = false;
#endif

constexpr int kTasks = 1000;
constexpr int kYields = 1000;

struct Trivial {
  using Output = Unit;
  Poll<Unit> poll(Context&) { return Ready(); }
};

struct Yielder {
  using Output = Unit;
  int left;
  Poll<Unit> poll(Context& cx) {
    if (left-- == 0) return Ready();
    cx.waker().wake_by_ref();
    return Pending;
  }
};

void BM_recorder_spawn_run(benchmark::State& state, bool record) {
  // A pool per round in every state, so the states differ only in recording.
  RunBatches(state, kTasks, [&] {
    std::unique_ptr<record::Recorder> rec;
    if (record) rec = std::make_unique<record::Recorder>();
    {
      LocalPool pool;
      if (rec) rec->attach_to(pool);
      LocalSpawner spawner = pool.spawner();
      for (int i = 0; i < kTasks; ++i) spawner.spawn_local(Trivial{});
      pool.run();
      if (rec) rec->detach(&pool);
    }
  });
}

void BM_recorder_yield_pingpong(benchmark::State& state, bool record) {
  RunBatches(state, 2 * kYields, [&] {
    std::unique_ptr<record::Recorder> rec;
    if (record) rec = std::make_unique<record::Recorder>();
    {
      LocalPool pool;
      if (rec) rec->attach_to(pool);
      pool.spawner().spawn_local(Yielder{kYields});
      pool.spawner().spawn_local(Yielder{kYields});
      pool.run();
      if (rec) rec->detach(&pool);
    }
  });
}

[[maybe_unused]] const bool registered = [] {
  if (!kCompiledIn) {
    benchmark::RegisterBenchmark("BM_recorder_spawn_run/off_at_build", BM_recorder_spawn_run, false);
    benchmark::RegisterBenchmark("BM_recorder_yield_pingpong/off_at_build", BM_recorder_yield_pingpong,
                                 false);
  } else {
    benchmark::RegisterBenchmark("BM_recorder_spawn_run/compiled_in_disabled", BM_recorder_spawn_run,
                                 false);
    benchmark::RegisterBenchmark("BM_recorder_spawn_run/enabled", BM_recorder_spawn_run, true);
    benchmark::RegisterBenchmark("BM_recorder_yield_pingpong/compiled_in_disabled",
                                 BM_recorder_yield_pingpong, false);
    benchmark::RegisterBenchmark("BM_recorder_yield_pingpong/enabled", BM_recorder_yield_pingpong, true);
  }
  return true;
}();

}  // namespace
}  // namespace pollwake::bench
