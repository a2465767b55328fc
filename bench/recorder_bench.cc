// bench/recorder_bench.cc: what the recorder (executor/record/) costs an
// executor in each of its three states, with one harness for every state.
//
// What it measures: ns_per_op of two workloads per executor, with the
// executor and the state in the row's name:
//   BM_recorder/spawn_run/<executor>/<state>       one trivial task spawned
//                                                  and run to completion; a
//                                                  round spawns 1000
//   BM_recorder/yield_pingpong/<executor>/<state>  one yield (wake self,
//                                                  Pending) by one of two
//                                                  tasks yielding 1000 times
// Executors: local_pool (this binary built as recorder_bench: a
// single-thread process, bench_main.cc checks) and thread_pool (built as
// recorder_threaded_bench: one worker, the tasks count a Latch down and the
// main thread waits for it).
// States:
//   off_at_build          the default build: the hooks are compiled out, the
//                         executor is the code it is without the recorder
//   compiled_in_disabled  `--config=record`, no recorder attached: each
//                         spawn asks whether the executor is recorded (one
//                         relaxed load and the environment recorder's
//                         static-init guard), each park twice
//   enabled               `--config=record`, a Recorder attached: every
//                         spawn, poll and wake is logged
// Every state runs the same round function (below): a new executor per
// round (a ThreadPool's shutdown joins its worker, so the round's recorder
// can then go), a recorder made and attached only in the enabled state.
// Compare off_at_build with compiled_in_disabled by running both builds:
// `bash bench/run_recorder.sh` (it reports each row's median and spread).
// How: bench_main.cc; RunBatches (bench_util.h).
#include <benchmark/benchmark.h>

#include <memory>

#include "bench/bench_util.h"
#include "executor/record/recorder.h"
#include "poll/ready.h"
#ifdef POLLWAKE_BENCH_SINGLE
#include "executor/local_pool.h"
#else
#include "executor/thread_pool.h"
#endif

namespace pollwake::bench {
namespace {

#if defined(POLLWAKE_RECORD) && POLLWAKE_RECORD
constexpr bool kCompiledIn = true;
#else
constexpr bool kCompiledIn = false;
#endif

constexpr int kTasks = 1000;
constexpr int kYields = 1000;

enum class Work { kSpawnRun, kYieldPingpong };

#ifdef POLLWAKE_BENCH_SINGLE
constexpr const char* kExecutor = "local_pool";

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

void Round(Work work, record::Recorder* rec) {
  LocalPool pool;
  if (rec != nullptr) rec->attach_to(pool);
  LocalSpawner spawner = pool.spawner();
  if (work == Work::kSpawnRun) {
    for (int i = 0; i < kTasks; ++i) spawner.spawn_local(Trivial{});
  } else {
    spawner.spawn_local(Yielder{kYields});
    spawner.spawn_local(Yielder{kYields});
  }
  pool.run();
  if (rec != nullptr) rec->detach(record::Recorder::key_of(pool));
}
#else
constexpr const char* kExecutor = "thread_pool";

void Round(Work work, record::Recorder* rec) {
  ThreadPool pool = ThreadPool::builder().pool_size(1).create();
  if (rec != nullptr) rec->attach_to(pool);
  if (work == Work::kSpawnRun) {
    Latch latch(kTasks);
    for (int i = 0; i < kTasks; ++i) pool.spawn_ok(CountDownTask(&latch));
    latch.wait();
  } else {
    Latch latch(2);
    pool.spawn_ok(YieldThenCountDown(kYields, &latch));
    pool.spawn_ok(YieldThenCountDown(kYields, &latch));
    latch.wait();
  }
  if (rec != nullptr) rec->detach(record::Recorder::key_of(pool));
}  // the pool shuts down: its worker is joined, every task dropped
#endif

// [START one_harness]
// The one harness of every row: `record` only decides whether a recorder
// is made (anew each round, so its log stays bounded) and attached.
void BM_recorder(benchmark::State& state, Work work, bool record) {
  RunBatches(state, work == Work::kSpawnRun ? kTasks : 2.0 * kYields, [&] {
    std::unique_ptr<record::Recorder> rec;
    if (record) rec = std::make_unique<record::Recorder>();
    Round(work, rec.get());
  });
}
// [END one_harness]

void Register(const char* work_name, Work work, const char* state_name, bool record) {
  std::string name = std::string("BM_recorder/") + work_name + "/" + kExecutor + "/" + state_name;
  auto* b = benchmark::RegisterBenchmark(name.c_str(), BM_recorder, work, record);
#ifndef POLLWAKE_BENCH_SINGLE
  b->UseRealTime();  // the work runs on the worker while the main thread waits
#else
  static_cast<void>(b);
#endif
}

[[maybe_unused]] const bool registered = [] {
  for (auto [work_name, work] : {std::pair{"spawn_run", Work::kSpawnRun},
                                 std::pair{"yield_pingpong", Work::kYieldPingpong}}) {
    if (!kCompiledIn) {
      Register(work_name, work, "off_at_build", false);
    } else {
      Register(work_name, work, "compiled_in_disabled", false);
      Register(work_name, work, "enabled", true);
    }
  }
  return true;
}();

}  // namespace
}  // namespace pollwake::bench
