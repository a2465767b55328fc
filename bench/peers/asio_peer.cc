// bench/peers/asio_peer.cc: the executor workloads on Boost.Asio (Debian's
// libboost-dev), each in the configurations its maintainers recommend, and
// the C++ floors under them, so pollwake's figures can be set beside them.
//
// What it measures: wall-clock ns per operation (ns_per_op), the process's
// CPU time per operation (cpu_ns_per_op) and operator-new calls per
// operation (allocs_per_op, counted in an untimed run; bench/alloc_count.h),
// for
//   BM_localpool_spawn_run[/variant]  peers asio, asio-hint1, asio-unsafe:
//                                     post 1000 trivial handlers to an
//                                     io_context, then run() it (variants
//                                     round:10000, new_pool, mixed as in
//                                     local_pool_bench.cc)
//   BM_localpool_yield_pingpong       the same peers: two handlers that each
//                                     re-post themselves K times with
//                                     asio::defer (one yield = one defer,
//                                     Asio's call for a continuation posted
//                                     from inside run()); operations = 2K
//   BM_threadpool_spawn               peer asio: post 1000 handlers to a
//                                     boost::asio::thread_pool of 2 threads;
//                                     each counts down a latch; the main
//                                     thread waits
// The three io_context configurations: `asio` is the default constructor
// (concurrency hint: any number of threads; a mutex around every queue
// operation); `asio-hint1` is io_context(1), the hint for one thread, which
// lets Asio keep handlers posted from inside run() on a private queue;
// `asio-unsafe` is io_context(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE), which also
// drops the scheduler's locking altogether. The best of the three is the
// Asio figure compared with pollwake.
//
// Floors, shown apart from the peers (no executor can do less, so no target
// is set against them):
//   BM_localpool_spawn_run, BM_localpool_yield_pingpong  peer coro-queue: a
//       minimal C++20 coroutine run queue; a task is one coroutine frame and
//       one push and pop on a ring of handles, a yield one push and pop
//   BM_cross_thread_wake  peers atomic, futex, condvar: a ping-pong between
//       two threads pinned to one CPU that sleep with C++20
//       std::atomic::wait, direct futex calls (what Rust's park does), or a
//       mutex and condition variable
// Asio has no future or waker, so the waker and block_on workloads have no
// Asio row.
//
// How: as the Rust peer (bench/peers/rust/src/main.rs): `run(n)` performs n
// iterations; n grows until one run lasts --min-time seconds; then --reps
// repetitions, median reported (--smoke: one tiny repetition). --group single
// runs only workloads that start no thread, so glibc stays in single-thread
// mode, and exits with status 1 if the process has a second thread at the
// end; --group threaded runs the others; --peer P runs one peer's rows,
// --filter S the rows whose "name/peer" contains S; --iters N runs exactly N
// iterations once (instruction counts under callgrind, docs/05_benchmarks.md).
// Output: one JSON document on stdout, the same shape as the Rust peer's.
#include <linux/futex.h>
#include <sched.h>
#include <sys/single_threaded.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <array>
#include <boost/asio/defer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <condition_variable>
#include <coroutine>
#include <exception>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench/alloc_count.h"

namespace pollwake::peers {
namespace {

struct Config {
  bool smoke = false;
  double min_time = 0.2;
  int reps = 5;
  std::string peer;  // --peer: only this peer's rows ("" = all)
  std::uint64_t iters = 0;  // --iters: exactly this many iterations, once (callgrind)
  std::string filter;       // --filter: only rows whose "name/peer" contains this
};

struct Row {
  std::string name;
  std::string peer;
  double ns_per_op;
  double cpu_ns_per_op;
  double allocs_per_op;
  std::uint64_t iterations;
  std::uint64_t ops;
  int reps;
};

double ProcessCpuNs() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

double WallNs() {
  return std::chrono::duration<double, std::nano>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Timing {
  std::uint64_t ops;
  double wall_ns;
  double cpu_ns;
};

// Measure: `run(n)` performs n iterations and returns how many operations
// they held and how long they took (so set-up stays off the clock). Then
// n/8 more iterations, untimed, with the allocation counter on.
void Measure(const Config& cfg, const char* name, const char* peer, std::vector<Row>& rows,
             const std::function<Timing(std::uint64_t)>& run) {
  if (!cfg.peer.empty() && cfg.peer != peer) return;
  if (!cfg.filter.empty() &&
      (std::string(name) + "/" + peer).find(cfg.filter) == std::string::npos) {
    return;
  }
  std::uint64_t n = 3;
  if (cfg.iters > 0) {
    n = cfg.iters;
  } else if (!cfg.smoke) {
    n = 1;
    for (;;) {
      double s = run(n).wall_ns / 1e9;
      if (s >= cfg.min_time || n >= (std::uint64_t{1} << 40)) break;
      double grow = s > 0 ? std::min(cfg.min_time * 1.4 / s, 10.0) : 10.0;
      n = static_cast<std::uint64_t>(static_cast<double>(n) * std::max(grow, 2.0) + 0.5);
    }
  }
  const int reps = cfg.smoke || cfg.iters > 0 ? 1 : cfg.reps;
  std::vector<double> wall, cpu;
  std::uint64_t ops = 0;
  for (int r = 0; r < reps; ++r) {
    Timing t = run(n);
    ops = t.ops;
    wall.push_back(t.wall_ns / static_cast<double>(t.ops));
    cpu.push_back(t.cpu_ns / static_cast<double>(t.ops));
  }
  double allocs_per_op = 0;
  {
    bench::CountAllocs counting;
    Timing t = run(std::max<std::uint64_t>(1, n / 8));
    allocs_per_op = static_cast<double>(counting.count()) / static_cast<double>(t.ops);
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  rows.push_back(
      Row{name, peer, wall[wall.size() / 2], cpu[cpu.size() / 2], allocs_per_op, n, ops, reps});
}

// Timed: runs `body` between two clock readings.
template <class F>
Timing Timed(std::uint64_t ops, F&& body) {
  double w = WallNs(), c = ProcessCpuNs();
  body();
  return Timing{ops, WallNs() - w, ProcessCpuNs() - c};
}

constexpr std::uint64_t kRound = 1000;     // tasks per round
constexpr std::uint64_t kPingPongK = 1000;  // yields per task

constexpr std::uint64_t kBigRound = 10000;  // tasks per round, /round:10000

// PingPong: a handler that re-posts itself `left` times (one yield each),
// with defer: the handler is a continuation of the one running, so Asio may
// queue it on the running thread's private queue.
struct PingPong {
  boost::asio::io_context* ctx;
  std::uint64_t left;
  void operator()() {
    if (--left == 0) return;
    boost::asio::defer(*ctx, *this);
  }
};

// Payload<N>: a handler carrying N words (the /mixed variant).
template <std::size_t N>
struct Payload {
  std::array<std::uint64_t, N> words;
  std::uint64_t* done;
  void operator()() {
    asm volatile("" : : "r"(words.data()) : "memory");  // as benchmark::DoNotOptimize
    ++*done;
  }
};
template <std::size_t N>
Payload<N> MakePayload(std::uint64_t v, std::uint64_t* done) {
  Payload<N> p{{}, done};
  p.words.fill(v);
  return p;
}

// AsioRows: every single-thread workload on io_contexts made by `make`.
template <class Make>
void AsioRows(const Config& cfg, std::vector<Row>& rows, const char* peer, Make make) {
  if (!cfg.peer.empty() && cfg.peer != peer) return;
  std::unique_ptr<boost::asio::io_context> ctx = make();
  std::uint64_t done = 0;
  auto round = [&](std::uint64_t tasks) {
    for (std::uint64_t k = 0; k < tasks; ++k) boost::asio::post(*ctx, [&done] { ++done; });
    ctx->run();
    ctx->restart();
  };
  Measure(cfg, "BM_localpool_spawn_run", peer, rows, [&](std::uint64_t n) {
    return Timed(n * kRound, [&] {
      for (std::uint64_t i = 0; i < n; ++i) round(kRound);
    });
  });
  Measure(cfg, "BM_localpool_spawn_run/round:10000", peer, rows, [&](std::uint64_t n) {
    return Timed(n * kBigRound, [&] {
      for (std::uint64_t i = 0; i < n; ++i) round(kBigRound);
    });
  });
  Measure(cfg, "BM_localpool_spawn_run/new_pool", peer, rows, [&](std::uint64_t n) {
    return Timed(n * kRound, [&] {
      for (std::uint64_t i = 0; i < n; ++i) {
        ctx = make();
        round(kRound);
      }
    });
  });
  Measure(cfg, "BM_localpool_spawn_run/mixed", peer, rows, [&](std::uint64_t n) {
    return Timed(n * kRound, [&] {
      for (std::uint64_t i = 0; i < n; ++i) {
        for (std::uint64_t k = 0; k < kRound; ++k) {
          switch (k % 4) {
            case 0:
              boost::asio::post(*ctx, [&done] { ++done; });
              break;
            case 1:
              boost::asio::post(*ctx, MakePayload<4>(k, &done));
              break;
            case 2:
              boost::asio::post(*ctx, MakePayload<16>(k, &done));
              break;
            default:
              boost::asio::post(*ctx, MakePayload<64>(k, &done));
              break;
          }
        }
        ctx->run();
        ctx->restart();
      }
    });
  });
  if (cfg.filter.empty() && done == 0) std::abort();
  Measure(cfg, "BM_localpool_yield_pingpong", peer, rows, [&](std::uint64_t n) {
    return Timed(n * 2 * kPingPongK, [&] {
      for (std::uint64_t i = 0; i < n; ++i) {
        boost::asio::post(*ctx, PingPong{ctx.get(), kPingPongK});
        boost::asio::post(*ctx, PingPong{ctx.get(), kPingPongK});
        ctx->run();
        ctx->restart();
      }
    });
  });
}

// ---- the coroutine floor: a task is a coroutine frame, started by the run
// queue; it frees itself at its end (final_suspend never suspends).
struct FloorTask {
  struct promise_type {
    FloorTask get_return_object() {
      return FloorTask{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { std::terminate(); }
  };
  std::coroutine_handle<promise_type> handle;
};

// RunQueue: a FIFO ring of handles that reuses its storage (no allocation
// once it has grown), the least a run queue can be.
class RunQueue {
 public:
  void push(std::coroutine_handle<> h) { items_.push_back(h); }
  void run() {
    while (head_ < items_.size()) items_[head_++].resume();
    items_.clear();
    head_ = 0;
  }

 private:
  std::vector<std::coroutine_handle<>> items_;
  std::size_t head_ = 0;
};

struct Yield {
  RunQueue* queue;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) const { queue->push(h); }
  void await_resume() const noexcept {}
};

FloorTask TrivialTask(std::uint64_t* done) {
  ++*done;
  co_return;
}

FloorTask YieldTask(RunQueue* queue, std::uint64_t k) {
  for (std::uint64_t i = 0; i < k; ++i) co_await Yield{queue};
}

void CoroFloor(const Config& cfg, std::vector<Row>& rows) {
  RunQueue queue;
  std::uint64_t done = 0;
  Measure(cfg, "BM_localpool_spawn_run", "coro-queue", rows, [&](std::uint64_t n) {
    return Timed(n * kRound, [&] {
      for (std::uint64_t i = 0; i < n; ++i) {
        for (std::uint64_t k = 0; k < kRound; ++k) queue.push(TrivialTask(&done).handle);
        queue.run();
      }
    });
  });
  Measure(cfg, "BM_localpool_yield_pingpong", "coro-queue", rows, [&](std::uint64_t n) {
    return Timed(n * 2 * kPingPongK, [&] {
      for (std::uint64_t i = 0; i < n; ++i) {
        queue.push(YieldTask(&queue, kPingPongK).handle);
        queue.push(YieldTask(&queue, kPingPongK).handle);
        queue.run();
      }
    });
  });
  if (cfg.peer.empty() && cfg.filter.empty() && done == 0) std::abort();
}

void Single(const Config& cfg, std::vector<Row>& rows) {
  AsioRows(cfg, rows, "asio", [] { return std::make_unique<boost::asio::io_context>(); });
  AsioRows(cfg, rows, "asio-hint1", [] { return std::make_unique<boost::asio::io_context>(1); });
  AsioRows(cfg, rows, "asio-unsafe", [] {
    return std::make_unique<boost::asio::io_context>(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE);
  });
  CoroFloor(cfg, rows);
}

void PinToCpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof(set), &set) != 0) std::abort();
}

int FirstAllowedCpu() {
  cpu_set_t set;
  CPU_ZERO(&set);
  sched_getaffinity(0, sizeof(set), &set);
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &set)) return c;
  }
  return 0;
}

// FutexWait / FutexWake: direct futex calls, as Rust's thread::park/unpark
// make them (see bench/bench_util.h for why not std::atomic::wait).
void FutexWait(std::atomic<std::uint32_t>& word, std::uint32_t expected) {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected,
          nullptr, nullptr, 0);
}
void FutexWake(std::atomic<std::uint32_t>& word) {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, 1, nullptr,
          nullptr, 0);
}

// PingPong: n round trips between this thread and a helper, both pinned to
// `cpu`, each side sleeping with `wait(turn, old)` and waking the other with
// `wake(turn)`. turn: 2i+1 = ping i is due to the helper, 2i+2 = its reply.
template <class Wait, class Wake>
Timing PingPongRoundTrips(std::uint64_t n, int cpu, Wait wait, Wake wake) {
  std::atomic<std::uint32_t> turn{0};
  std::thread helper([&] {
    PinToCpu(cpu);
    for (std::uint32_t i = 0; i < n; ++i) {
      // ORDERING: acquire/release pairs make each side's writes visible to
      // the other across the handoff.
      for (std::uint32_t v; (v = turn.load(std::memory_order_acquire)) != 2 * i + 1;) wait(turn, v);
      turn.store(2 * i + 2, std::memory_order_release);
      wake(turn);
    }
  });
  Timing t = Timed(n, [&] {
    for (std::uint32_t i = 0; i < n; ++i) {
      turn.store(2 * i + 1, std::memory_order_release);  // ORDERING: as above
      wake(turn);
      for (std::uint32_t v; (v = turn.load(std::memory_order_acquire)) != 2 * i + 2;) wait(turn, v);
    }
  });
  helper.join();
  return t;
}

// CondvarPingPong: n round trips as above, each side sleeping on a
// condition variable under one mutex.
Timing CondvarPingPong(std::uint64_t n, int cpu) {
  std::mutex m;
  std::condition_variable cv;
  std::uint64_t turn = 0;
  std::thread helper([&] {
    PinToCpu(cpu);
    for (std::uint64_t i = 0; i < n; ++i) {
      std::unique_lock<std::mutex> lock(m);
      cv.wait(lock, [&] { return turn == 2 * i + 1; });
      turn = 2 * i + 2;
      cv.notify_one();
    }
  });
  Timing t = Timed(n, [&] {
    for (std::uint64_t i = 0; i < n; ++i) {
      std::unique_lock<std::mutex> lock(m);
      turn = 2 * i + 1;
      cv.notify_one();
      cv.wait(lock, [&] { return turn == 2 * i + 2; });
    }
  });
  helper.join();
  return t;
}

void Threaded(const Config& cfg, std::vector<Row>& rows) {
  if (cfg.peer.empty() || cfg.peer == "asio") {
    boost::asio::thread_pool pool(2);
    Measure(cfg, "BM_threadpool_spawn", "asio", rows, [&](std::uint64_t n) {
      return Timed(n * kRound, [&] {
        for (std::uint64_t i = 0; i < n; ++i) {
          std::atomic<std::uint32_t> latch{kRound};
          for (std::uint64_t k = 0; k < kRound; ++k) {
            boost::asio::post(pool, [&latch] {
              // ORDERING: acq_rel; the last count-down publishes every task's
              // work to the waiting main thread (which loads with acquire).
              if (latch.fetch_sub(1, std::memory_order_acq_rel) == 1) FutexWake(latch);
            });
          }
          for (std::uint32_t v; (v = latch.load(std::memory_order_acquire)) != 0;) FutexWait(latch, v);
        }
      });
    });
    pool.join();
  }
  const int cpu = FirstAllowedCpu();
  PinToCpu(cpu);
  Measure(cfg, "BM_cross_thread_wake", "atomic", rows, [&](std::uint64_t n) {
    return PingPongRoundTrips(
        n, cpu,
        [](std::atomic<std::uint32_t>& t, std::uint32_t v) { t.wait(v, std::memory_order_acquire); },
        [](std::atomic<std::uint32_t>& t) { t.notify_one(); });
  });
  Measure(cfg, "BM_cross_thread_wake", "futex", rows, [&](std::uint64_t n) {
    return PingPongRoundTrips(n, cpu, FutexWait, FutexWake);
  });
  Measure(cfg, "BM_cross_thread_wake", "condvar", rows,
          [&](std::uint64_t n) { return CondvarPingPong(n, cpu); });
}

int ThreadsInProcess() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return 0;
}

}  // namespace
}  // namespace pollwake::peers

int main(int argc, char** argv) {
  using namespace pollwake::peers;
  Config cfg;
  std::string group = "single";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--smoke") == 0) {
      cfg.smoke = true;
    } else if (std::strcmp(argv[i], "--min-time") == 0 && i + 1 < argc) {
      cfg.min_time = std::atof(argv[++i]);
    } else if (std::strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
      cfg.reps = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--filter") == 0 && i + 1 < argc) {
      cfg.filter = argv[++i];
    } else if (std::strcmp(argv[i], "--iters") == 0 && i + 1 < argc) {
      cfg.iters = std::strtoull(argv[++i], nullptr, 10);
    } else if (std::strcmp(argv[i], "--peer") == 0 && i + 1 < argc) {
      cfg.peer = argv[++i];
    } else if (std::strcmp(argv[i], "--group") == 0 && i + 1 < argc) {
      group = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--smoke] [--min-time S] [--reps N] [--peer P] [--filter S] "
                   "[--iters N] --group single|threaded\n",
                   argv[0]);
      return 2;
    }
  }
  std::vector<Row> rows;
  if (group == "single") {
    Single(cfg, rows);
  } else if (group == "threaded") {
    Threaded(cfg, rows);
  } else {
    std::fprintf(stderr, "unknown group %s\n", group.c_str());
    return 2;
  }
  std::printf("{\n  \"context\": {\"executable\": \"asio_peer\", \"group\": \"%s\", \"smoke\": %s, "
              "\"threads_at_end\": %d, \"boost_version\": %d},\n  \"benchmarks\": [\n",
              group.c_str(), cfg.smoke ? "true" : "false", ThreadsInProcess(), BOOST_VERSION);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    std::printf("    {\"name\": \"%s\", \"peer\": \"%s\", \"ns_per_op\": %.3f, \"cpu_ns_per_op\": %.3f, "
                "\"allocs_per_op\": %.4f, \"iterations\": %llu, \"ops_per_run\": %llu, "
                "\"repetitions\": %d}%s\n",
                r.name.c_str(), r.peer.c_str(), r.ns_per_op, r.cpu_ns_per_op, r.allocs_per_op,
                static_cast<unsigned long long>(r.iterations),
                static_cast<unsigned long long>(r.ops), r.reps, i + 1 < rows.size() ? "," : "");
  }
  std::printf("  ]\n}\n");
  // A live thread at exit, or one started and joined during a run (glibc's
  // flag): either way the single group's figures are not single-thread ones.
  const int threads = ThreadsInProcess();
  if (group == "single" && (threads != 1 || !__libc_single_threaded)) {
    std::fprintf(stderr,
                 "asio_peer: %d threads at exit, __libc_single_threaded=%d; the single group "
                 "must start none\n",
                 threads, __libc_single_threaded ? 1 : 0);
    return 1;
  }
  return 0;
}
