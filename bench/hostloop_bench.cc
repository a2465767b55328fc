// bench/hostloop_bench.cc: what it costs a foreign event loop (libuv) to drive
// a pollwake task through HostExecutor.
//
//   BM_hostloop_uv_wake_same_thread  one wake of a parked task on the loop's
//                                    thread -> notify (uv_async_send) ->
//                                    uv_run(UV_RUN_ONCE) -> the async
//                                    callback -> run_ready() -> one poll.
//                                    ns_per_op = one round trip.
//   BM_hostloop_uv_wake_cross_thread the same wake, made by another thread
//                                    while the loop's thread sleeps in
//                                    uv_run (epoll_wait): ns_per_op = one
//                                    round, from the wake on the waker
//                                    thread to the task's poll on the loop
//                                    thread, plus the waker seeing that poll
//                                    (an atomic it spins on) before it
//                                    wakes again. One wake in flight at a
//                                    time: a latency, not a throughput.
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
// Every row runs under a watchdog (Watch below): a lost wakeup would leave
// the loop's thread asleep in epoll_wait, or spinning, for good; instead the
// row is reported and the process exits non-zero.
//
// All but the cross-thread row run on one thread, as a host loop does; the
// figures include libuv's eventfd write and its epoll_wait (which returns at
// once on one thread: the eventfd is already readable; across threads it
// sleeps until the write, so a thread wake-up is part of the figure).
#include <uv.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "interop/coro/async_fn.h"
#include "interop/hostloop/promise.h"
#include "interop/hostloop/uv_host.h"
#include "poll/box_future.h"
#include "tests/support/deadline.h"
#include "tests/support/watchdog.h"

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

// Watch(row): a watchdog for one run of a row. The row ticks it every
// kTickEvery iterations (a branch per iteration; the watchdog's lock is
// taken once per kTickEvery round trips, too rarely to show in the figures)
// and once before its teardown. After kDeadline without a tick it names the
// row and where it stalled, and the process exits with status 1: a hang of
// the benchmark becomes a failure with a message. The watchdog is a thread:
// from the first row on, the process is no longer single-threaded, so glibc's
// malloc and libstdc++'s shared_ptr use their locked instructions in every
// row (bench/bench_main.cc says why that matters). Every row pays it alike;
// figures taken before the rows were watched are not comparable with these.
constexpr long kTickEvery = 4096;

pollwake::testing::Watchdog Watch(const char* row) {
  return pollwake::testing::Watchdog(row, pollwake::testing::kDeadline, [row] {
    std::fprintf(stderr, "hostloop_bench: %s stalled (a lost wakeup?): exiting\n", row);
    std::fflush(stderr);
    std::_Exit(1);
  });
}

// Ticks `dog` every kTickEvery calls; `n` counts the calls.
inline void TickEvery(pollwake::testing::Watchdog& dog, long& n) {
  if (++n % kTickEvery == 0) dog.tick();
}

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

void BM_hostloop_uv_wake_same_thread(benchmark::State& state) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  long polls = 0;
  std::optional<Waker> waker;
  auto dog = Watch("BM_hostloop_uv_wake_same_thread");
  long ticks = 0;
  {
    UvHost host(&loop);
    host.spawn_local(pollwake::boxed_local(Parked{&waker, &polls}));
    uv_run(&loop, UV_RUN_NOWAIT);  // first pass: the task parks
    pollwake::bench::OpClock clock;
    for (auto _ : state) {
      waker->wake_by_ref();            // enqueue + notify (uv_async_send)
      uv_run(&loop, UV_RUN_ONCE);      // async callback -> run_ready -> poll
      TickEvery(dog, ticks);
    }
    clock.set_ns_per_op(state, 1);
    dog.tick("teardown");
    if (polls != static_cast<long>(state.iterations()) + 1) state.SkipWithError("a wake was lost");
    waker.reset();
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
}
BENCHMARK(BM_hostloop_uv_wake_same_thread);

// Pending forever; stores its first waker and publishes its poll count for
// a waker on another thread.
struct ParkedShared {
  using Output = Unit;
  std::optional<Waker>* waker;
  std::atomic<long>* polls;
  Poll<Unit> poll(Context& cx) {
    if (!*waker) waker->emplace(cx.waker());
    // ORDERING: release, pairing with the waker thread's acquire load: the
    // thread that sees the new count knows this poll is done, so its next
    // wake is a new one (never coalesced with the last).
    polls->fetch_add(1, std::memory_order_release);
    return Pending;
  }
};

void BM_hostloop_uv_wake_cross_thread(benchmark::State& state) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  std::atomic<long> polls{0};
  std::atomic<bool> stop{false};
  std::optional<Waker> waker;
  auto dog = Watch("BM_hostloop_uv_wake_cross_thread");
  long ticks = 0;
  {
    UvHost host(&loop);
    host.spawn_local(pollwake::boxed_local(ParkedShared{&waker, &polls}));
    uv_run(&loop, UV_RUN_NOWAIT);  // first pass: the task parks (polls = 1)
    std::thread waker_thread([&stop, &polls, w = *waker] {
      long seen = 0;
      for (;;) {
        // ORDERING: acquire, pairing with the poll's release.
        long now = polls.load(std::memory_order_acquire);
        while (now == seen) {
          // ORDERING: relaxed; it only ends the thread and carries no data.
          if (stop.load(std::memory_order_relaxed)) return;
          std::this_thread::yield();
          now = polls.load(std::memory_order_acquire);
        }
        seen = now;
        w.wake_by_ref();  // from this thread: enqueue + uv_async_send
      }
    });
    pollwake::bench::OpClock clock;
    for (auto _ : state) {
      // ORDERING: relaxed; this thread made every poll itself.
      const long target = polls.load(std::memory_order_relaxed) + 1;
      // Sleeps in epoll_wait until the other thread's wake arrives.
      while (polls.load(std::memory_order_relaxed) < target) uv_run(&loop, UV_RUN_ONCE);
      TickEvery(dog, ticks);
    }
    clock.set_ns_per_op(state, 1);
    dog.tick("teardown");
    // ORDERING: relaxed; see the load in the waker thread.
    stop.store(true, std::memory_order_relaxed);
    waker_thread.join();
    waker.reset();
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
}
BENCHMARK(BM_hostloop_uv_wake_cross_thread);

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
  auto dog = Watch("BM_foreign_loop_pingpong");
  long ticks = 0;
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
      TickEvery(dog, ticks);
    }
    clock.set_ns_per_op(state, 1);
    dog.tick("teardown");
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
