// bench/peers/asio_peer.cc: the executor workloads of bench/WORKLOADS.md on
// Boost.Asio (Debian's libboost-dev), and cross_thread_wake on bare C++20
// atomic wait/notify, so pollwake's figures can be set beside them.
//
// What it measures: wall-clock ns per operation (ns_per_op), and the
// process's CPU time per operation (cpu_ns_per_op), for
//   BM_localpool_spawn_run      peer asio:   post 1000 trivial handlers to an
//                                            io_context, then run() it
//   BM_localpool_yield_pingpong peer asio:   two handlers that each re-post
//                                            themselves K times (one yield =
//                                            one post); operations = 2K
//   BM_threadpool_spawn         peer asio:   post 1000 handlers to a
//                                            boost::asio::thread_pool of 2
//                                            threads; each counts down a
//                                            latch; the main thread waits
//   BM_cross_thread_wake        peer atomic: a ping-pong between two threads
//                                            pinned to one CPU, each waiting
//                                            with C++20 std::atomic::wait
//                               peer futex:  the same with direct futex
//                                            calls (what Rust's park does):
//                                            the floor under any executor's
//                                            cross-thread wake
// Asio has no future or waker, so the waker and block_on workloads have no
// Asio row.
//
// How: as the Rust peer (bench/peers/rust/src/main.rs): `run(n)` performs n
// iterations; n doubles until one run lasts --min-time seconds; then 5
// repetitions, median reported (--smoke: one tiny repetition). --group single
// runs only workloads that start no thread, so glibc stays in single-thread
// mode (bench/WORKLOADS.md, "Measuring fairly"); --group threaded runs the others.
// Output: one JSON document on stdout, the same shape as the Rust peer's.
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace pollwake::peers {
namespace {

struct Config {
  bool smoke = false;
  double min_time = 0.2;
  int reps = 5;
};

struct Row {
  std::string name;
  std::string peer;
  double ns_per_op;
  double cpu_ns_per_op;
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
// they held and how long they took (so set-up stays off the clock).
void Measure(const Config& cfg, const char* name, const char* peer, std::vector<Row>& rows,
             const std::function<Timing(std::uint64_t)>& run) {
  std::uint64_t n = 3;
  if (!cfg.smoke) {
    n = 1;
    for (;;) {
      double s = run(n).wall_ns / 1e9;
      if (s >= cfg.min_time || n >= (std::uint64_t{1} << 40)) break;
      double grow = s > 0 ? std::min(cfg.min_time * 1.4 / s, 10.0) : 10.0;
      n = static_cast<std::uint64_t>(static_cast<double>(n) * std::max(grow, 2.0) + 0.5);
    }
  }
  const int reps = cfg.smoke ? 1 : cfg.reps;
  std::vector<double> wall, cpu;
  std::uint64_t ops = 0;
  for (int r = 0; r < reps; ++r) {
    Timing t = run(n);
    ops = t.ops;
    wall.push_back(t.wall_ns / static_cast<double>(t.ops));
    cpu.push_back(t.cpu_ns / static_cast<double>(t.ops));
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  rows.push_back(Row{name, peer, wall[wall.size() / 2], cpu[cpu.size() / 2], n, ops, reps});
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

// PingPong: a handler that re-posts itself `left` times (one yield each).
struct PingPong {
  boost::asio::io_context* ctx;
  std::uint64_t left;
  void operator()() {
    if (--left == 0) return;
    boost::asio::post(*ctx, *this);
  }
};

void Single(const Config& cfg, std::vector<Row>& rows) {
  boost::asio::io_context ctx;
  std::uint64_t done = 0;
  Measure(cfg, "BM_localpool_spawn_run", "asio", rows, [&](std::uint64_t n) {
    return Timed(n * kRound, [&] {
      for (std::uint64_t i = 0; i < n; ++i) {
        for (std::uint64_t k = 0; k < kRound; ++k) boost::asio::post(ctx, [&done] { ++done; });
        ctx.run();
        ctx.restart();
      }
    });
  });
  if (done == 0) std::abort();
  Measure(cfg, "BM_localpool_yield_pingpong", "asio", rows, [&](std::uint64_t n) {
    return Timed(n * 2 * kPingPongK, [&] {
      for (std::uint64_t i = 0; i < n; ++i) {
        boost::asio::post(ctx, PingPong{&ctx, kPingPongK});
        boost::asio::post(ctx, PingPong{&ctx, kPingPongK});
        ctx.run();
        ctx.restart();
      }
    });
  });
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

void Threaded(const Config& cfg, std::vector<Row>& rows) {
  {
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
    } else if (std::strcmp(argv[i], "--group") == 0 && i + 1 < argc) {
      group = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--smoke] [--min-time S] [--reps N] --group single|threaded\n",
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
                "\"iterations\": %llu, \"ops_per_run\": %llu, \"repetitions\": %d}%s\n",
                r.name.c_str(), r.peer.c_str(), r.ns_per_op, r.cpu_ns_per_op,
                static_cast<unsigned long long>(r.iterations),
                static_cast<unsigned long long>(r.ops), r.reps, i + 1 < rows.size() ? "," : "");
  }
  std::printf("  ]\n}\n");
  return 0;
}
