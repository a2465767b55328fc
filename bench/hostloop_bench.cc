// bench/hostloop_bench.cc: what it costs a foreign event loop (libuv) to drive
// a pollwake task through HostExecutor.
//
//   BM_hostloop_uv_notify_roundtrip  one wake of a parked task on the loop's
//                                    thread -> notify (uv_async_send) ->
//                                    uv_run(UV_RUN_ONCE) -> the async
//                                    callback -> run_ready() -> one poll.
//                                    ns_per_op = one round trip.
//   BM_foreign_loop_pingpong         a task awaits a Promise<int>; the host
//                                    loop resolves it from a uv_idle_t
//                                    callback; the task awaits the next one.
//                                    ns_per_op = one round trip task -> loop
//                                    -> task (a Promise made, a Pending, an
//                                    idle callback, a resolve, a notify, a
//                                    pass, a Ready).
//
//   bazel run --config=opt //bench:hostloop_bench
//
// Both run on one thread, as a host loop does; the figures include libuv's
// eventfd write and its epoll_wait (which returns at once: the eventfd is
// already readable).
#include <uv.h>

#include <memory>
#include <optional>
#include <vector>

#include "bench/bench_util.h"
#include "interop/coro/async_fn.h"
#include "interop/hostloop/promise.h"
#include "interop/hostloop/uv_host.h"
#include "poll/box_future.h"

namespace {

using pollwake::Context;
using pollwake::Pending;
using pollwake::Poll;
using pollwake::Unit;
using pollwake::Waker;
using pollwake::hostloop::make_promise;
using pollwake::hostloop::Promise;
using pollwake::hostloop::Resolver;
using pollwake::hostloop::UvHost;

// Pending forever; keeps the latest waker and counts polls.
struct Parked {
  using Output = Unit;
  std::optional<Waker>* waker;
  long* polls;
  Poll<Unit> poll(Context& cx) {
    ++*polls;
    if (!*waker) waker->emplace(cx.waker());
    return Pending;
  }
};

void BM_hostloop_uv_notify_roundtrip(benchmark::State& state) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  long polls = 0;
  std::optional<Waker> waker;
  {
    UvHost host(&loop);
    host.spawn_local(pollwake::boxed_local(Parked{&waker, &polls}));
    uv_run(&loop, UV_RUN_NOWAIT);  // first pass: the task parks
    pollwake::bench::OpClock clock;
    for (auto _ : state) {
      waker->wake_by_ref();            // enqueue + notify (uv_async_send)
      uv_run(&loop, UV_RUN_ONCE);      // async callback -> run_ready -> poll
    }
    clock.set_ns_per_op(state, 1);
    if (polls != static_cast<long>(state.iterations()) + 1) state.SkipWithError("a wake was lost");
    waker.reset();
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
}
BENCHMARK(BM_hostloop_uv_notify_roundtrip);

// The host side of the ping-pong: resolvers waiting for the loop's next turn.
struct PingPongHost {
  std::vector<Resolver<int>> pending;
  long rounds = 0;
};

pollwake::coro::Async<> Pinger(PingPongHost* host, const long* stop) {
  while (host->rounds < *stop) {
    auto ends = make_promise<int>();
    host->pending.push_back(std::move(ends.second));
    Promise<int> reply = std::move(ends.first);
    (void)co_await reply;
    ++host->rounds;
  }
}

void BM_foreign_loop_pingpong(benchmark::State& state) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  PingPongHost pp;
  long stop = 1L << 62;
  {
    UvHost host(&loop);
    uv_idle_t idle;
    uv_idle_init(&loop, &idle);
    idle.data = &pp;
    uv_idle_start(&idle, [](uv_idle_t* h) {
      auto* p = static_cast<PingPongHost*>(h->data);
      std::vector<Resolver<int>> now;
      now.swap(p->pending);
      for (auto& r : now) r.resolve(1);  // wakes the task: notify -> uv_async_send
    });
    host.spawn_local(pollwake::boxed_local(Pinger(&pp, &stop)));
    uv_run(&loop, UV_RUN_NOWAIT);
    pollwake::bench::OpClock clock;
    const long start = pp.rounds;
    for (auto _ : state) {
      const long target = pp.rounds + 1;
      while (pp.rounds < target) uv_run(&loop, UV_RUN_NOWAIT);
    }
    clock.set_ns_per_op(state, 1);
    state.counters["rounds"] = static_cast<double>(pp.rounds - start);
    stop = 0;  // the task ends at its next poll
    while (host.executor().live_tasks() > 0) uv_run(&loop, UV_RUN_NOWAIT);
    uv_idle_stop(&idle);
    // SAFETY: uv_idle_t is a uv_handle_t (libuv's handle layout).
    uv_close(reinterpret_cast<uv_handle_t*>(&idle), nullptr);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
}
BENCHMARK(BM_foreign_loop_pingpong);

}  // namespace
