// bench/bridge_bench.cc: the round trip of a no-op command through the C ABI
// bridge (interop/bridge/pollwake_bridge.h).
//
// What it measures: ns_per_op of one pwb_ping, a command that does nothing:
// the cost of the bridge itself (copying into a std::variant command, the
// mpsc send and the cross-thread wake of the runtime's LocalPool, spawning
// one task, the completion callback or the oneshot reply, and the wake of
// the caller).
//   BM_bridge_roundtrip/callback   pwb_ping, then wait for its done callback
//                                  (a C++20 atomic wait: futex); one in flight.
//   BM_bridge_roundtrip/blocking   pwb_ping_blocking (block_on a oneshot reply).
//   BM_bridge_roundtrip/inflight64 64 pwb_ping calls, then wait for all 64:
//                                  throughput with 64 commands in flight;
//                                  ns_per_op is per command.
//
// The floor: the same round trips without the bridge, so that its cost can
// be read against something (same Outstanding counter, same wait):
//   BM_bridge_roundtrip/floor_direct   done(user_data, ...) called on the
//                                  caller's thread: a function call, no thread.
//   BM_bridge_roundtrip/floor_condvar  a plain server thread: the caller pushes
//                                  {done, user_data} onto a std::deque under a
//                                  std::mutex and signals a
//                                  std::condition_variable; the server takes
//                                  the whole queue and calls each done. Two
//                                  cross-thread wakes per round trip, as in the
//                                  bridge, and nothing else: no command copy, no
//                                  task, no executor.
//   BM_bridge_roundtrip/floor_condvar64  the same with 64 in flight.
// The bridge's rows minus the condvar rows is what the bridge's own
// machinery costs (command, channel, LocalPool wake, one task per call).
//
// How: the runtime is started (by a connect) before the clock and shut down
// after it. The threads are not pinned: the caller and the runtime thread
// each want a CPU, as they would in a real client, so on a busy 2-CPU
// machine the figures include scheduler wake-up latency; compare them with
// each other, not across machines.
#include <benchmark/benchmark.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>

#include "bench/bench_util.h"
#include "interop/bridge/pollwake_bridge.h"

namespace pollwake::bench {
namespace {

// Outstanding calls; the done callback counts down and wakes the waiter.
struct Outstanding {
  std::atomic<std::int64_t> n{0};
  std::atomic<std::int64_t> failed{0};
  static void Done(void* ud, pwb_status s, const char*, uint64_t) {
    auto* self = static_cast<Outstanding*>(ud);
    if (s != PWB_OK) self->failed.fetch_add(1, std::memory_order_relaxed);
    // ORDERING: release, so the waiter's acquire load of 0 sees every
    // completion's writes (here only `failed`, read after the loop).
    if (self->n.fetch_sub(1, std::memory_order_release) == 1) self->n.notify_one();
  }
  void WaitForZero() {
    for (;;) {
      // ORDERING: acquire, pairs with the release decrement in Done.
      const std::int64_t v = n.load(std::memory_order_acquire);
      if (v == 0) return;
      n.wait(v, std::memory_order_acquire);
    }
  }
};

bool StartRuntime(benchmark::State& state) {
  pwb_conn c = 0;
  if (pwb_connect_blocking("bench", 0, &c, nullptr, 0) != PWB_OK) {
    state.SkipWithError("pwb_connect_blocking failed");
    return false;
  }
  return true;
}

void RoundTripCallback(benchmark::State& state, int in_flight) {
  if (!StartRuntime(state)) return;
  Outstanding out;
  OpClock clock;
  for (auto _ : state) {
    // ORDERING: relaxed; the pwb_ping calls below publish it (the mpsc's
    // mutex orders the store before the runtime thread's decrements).
    out.n.store(in_flight, std::memory_order_relaxed);
    for (int i = 0; i < in_flight; ++i) pwb_ping(&Outstanding::Done, &out);
    out.WaitForZero();
  }
  clock.set_ns_per_op(state, in_flight);
  pwb_shutdown();
  if (out.failed.load() != 0) state.SkipWithError("a ping failed");
}

void BM_bridge_roundtrip_callback(benchmark::State& state) { RoundTripCallback(state, 1); }
void BM_bridge_roundtrip_inflight64(benchmark::State& state) { RoundTripCallback(state, 64); }

void BM_bridge_roundtrip_blocking(benchmark::State& state) {
  if (!StartRuntime(state)) return;
  std::int64_t failed = 0;
  OpClock clock;
  for (auto _ : state) failed += pwb_ping_blocking() != PWB_OK;
  clock.set_ns_per_op(state, 1);
  pwb_shutdown();
  if (failed != 0) state.SkipWithError("a ping failed");
}

// [START floor]
// CondvarServer: the floor's server thread (a mutex, a condvar, a deque).
class CondvarServer {
 public:
  CondvarServer() : thread_([this] { Serve(); }) {}
  ~CondvarServer() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  void Call(pwb_done_fn done, void* user_data) {
    {
      std::lock_guard lock(mu_);
      queue_.emplace_back(done, user_data);
    }
    cv_.notify_one();
  }

 private:
  void Serve() {
    std::deque<std::pair<pwb_done_fn, void*>> batch;
    for (;;) {
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stop_, and nothing left
        batch.swap(queue_);
      }
      for (auto& [done, user_data] : batch) done(user_data, PWB_OK, "", 0);
      batch.clear();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<pwb_done_fn, void*>> queue_;  // guarded by mu_
  bool stop_ = false;                                // guarded by mu_
  std::thread thread_;  // last: starts after the fields it reads
};
// [END floor]

void FloorCondvar(benchmark::State& state, int in_flight) {
  CondvarServer server;
  Outstanding out;
  OpClock clock;
  for (auto _ : state) {
    // ORDERING: relaxed; the server's mutex orders it before the decrements.
    out.n.store(in_flight, std::memory_order_relaxed);
    for (int i = 0; i < in_flight; ++i) server.Call(&Outstanding::Done, &out);
    out.WaitForZero();
  }
  clock.set_ns_per_op(state, in_flight);
}

void BM_bridge_floor_condvar(benchmark::State& state) { FloorCondvar(state, 1); }
void BM_bridge_floor_condvar_inflight64(benchmark::State& state) { FloorCondvar(state, 64); }

void BM_bridge_floor_direct(benchmark::State& state) {
  Outstanding out;
  OpClock clock;
  for (auto _ : state) {
    // ORDERING: relaxed; one thread.
    out.n.store(1, std::memory_order_relaxed);
    Outstanding::Done(&out, PWB_OK, "", 0);
    out.WaitForZero();
  }
  clock.set_ns_per_op(state, 1);
}

BENCHMARK(BM_bridge_roundtrip_callback)->Name("BM_bridge_roundtrip/callback")->UseRealTime();
BENCHMARK(BM_bridge_roundtrip_blocking)->Name("BM_bridge_roundtrip/blocking")->UseRealTime();
BENCHMARK(BM_bridge_roundtrip_inflight64)->Name("BM_bridge_roundtrip/inflight64")->UseRealTime();
BENCHMARK(BM_bridge_floor_direct)->Name("BM_bridge_roundtrip/floor_direct")->UseRealTime();
BENCHMARK(BM_bridge_floor_condvar)->Name("BM_bridge_roundtrip/floor_condvar")->UseRealTime();
BENCHMARK(BM_bridge_floor_condvar_inflight64)
    ->Name("BM_bridge_roundtrip/floor_condvar64")
    ->UseRealTime();

}  // namespace
}  // namespace pollwake::bench
