// examples/04_thread_pool.cc: a ThreadPool polls tasks on its worker thread
// when they are woken, and only then.
//
//   bash .ci/tour.sh 04        (or: bazel run //examples:04_thread_pool)
//
// The Rust program this example mirrors (futures 0.3):
//
//   let pool = ThreadPool::builder().pool_size(1).name_prefix("worker-")
//       .after_start(|i| println!("after_start({i})"))
//       .before_stop(|i| println!("before_stop({i})"))
//       .create()?;
//   pool.spawn_ok(greeter);                 // Pending, then woken by main
//   pool.spawn_ok(impatient);               // wakes itself during its poll
//   pool.spawn_ok(faulty);                  // panics (Rust: the worker dies)
//   let answer = pool.spawn_with_handle(async { 42 })?;   // (Rust: from here
//                                           // on it would hang: with
//                                           // pool_size(1) no worker is left)
//   pool.spawn_ok(sleeper);                 // never woken (Rust: leaked)
//   println!("{}", block_on(answer));
//   drop(pool);
//
// One worker keeps the trace deterministic: the run queue is FIFO and main
// waits for each step before it takes the next. Each line says which thread
// printed it. Lines are numbered; `// (n)` marks the statement that prints
// [n]. examples/04_thread_pool.expected holds the output, and a test
// compares it.

#include <pthread.h>

#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "executor/block_on.h"
#include "executor/thread_pool.h"
#include "poll/context.h"
#include "poll/poll.h"
#include "poll/ready.h"
#include "poll/waker.h"

using pollwake::Context;
using pollwake::Pending;
using pollwake::Poll;
using pollwake::Ready;
using pollwake::ThreadPool;
using pollwake::Unit;
using pollwake::Waker;

namespace {

// The trace: numbered lines from any thread, and a way for main to wait
// until line n has been printed.
std::mutex g_mu;
std::condition_variable g_cv;
int g_line = 0;

std::string thread_name() {
  char name[16] = {};
  pthread_getname_np(pthread_self(), name, sizeof name);
  return std::strncmp(name, "worker-", 7) == 0 ? name : "main";
}

void trace(const std::string& text) {
  std::lock_guard lock(g_mu);
  std::printf("[%d] %-8s %s\n", ++g_line, thread_name().c_str(), text.c_str());
  std::fflush(stdout);
  g_cv.notify_all();
}

void wait_line(int n) {
  std::unique_lock lock(g_mu);
  g_cv.wait(lock, [n] { return g_line >= n; });
}

// A waker that a task leaves for main.
std::mutex g_slot_mu;
std::optional<Waker> g_greeter_waker;
std::optional<Waker> g_sleeper_waker;

void keep(std::optional<Waker>& slot, const Waker& w) {
  std::lock_guard lock(g_slot_mu);
  slot.emplace(w);
}
std::optional<Waker> take(std::optional<Waker>& slot) {
  std::lock_guard lock(g_slot_mu);
  std::optional<Waker> w;
  w.swap(slot);
  return w;
}

// Prints when the future that owns it is destroyed (not when moved from).
struct SaysGoodbye {
  explicit SaysGoodbye(const char* t) : text(t) {}
  SaysGoodbye(SaysGoodbye&& o) noexcept : text(std::exchange(o.text, nullptr)) {}
  ~SaysGoodbye() {
    if (text != nullptr) trace(text);
  }
  const char* text;
};

}  // namespace

int main() {
  // [START build_pool]
  std::optional<ThreadPool> pool = ThreadPool::builder()
      .pool_size(1)
      .name_prefix("worker-")
      .after_start([](std::size_t i) {
        trace("after_start(" + std::to_string(i) + ")");  // (1)
      })
      .before_stop([](std::size_t i) {
        trace("before_stop(" + std::to_string(i) + ")");  // (17)
      })
      .panic_handler([](std::exception_ptr e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          trace(std::string("panic_handler: caught '") + ex.what() +  // (11)
                "'; the worker lives on");
        }
      })
      .create();
  // [END build_pool]
  wait_line(1);

  trace("spawn_ok(greeter): queued; it runs when worker-0 polls it");  // (2)
  // [START greeter]
  pool->spawn_ok(pollwake::poll_fn([polls = 0](Context& cx) mutable -> Poll<Unit> {
    if (++polls == 1) {
      keep(g_greeter_waker, cx.waker());
      trace("greeter: poll 1 -> Pending (waker handed to main)");  // (3)
      return Pending;
    }
    trace("greeter: poll 2 -> Ready (main woke it)");  // (5)
    return Ready();
  }));
  // [END greeter]
  wait_line(3);
  trace("wakes greeter: WAITING -> POLLING, queued on worker-0");  // (4)
  std::move(*take(g_greeter_waker)).wake();
  wait_line(5);

  trace("spawn_ok(impatient): it wakes itself during its first poll");  // (6)
  pool->spawn_ok(pollwake::poll_fn([polls = 0](Context& cx) mutable -> Poll<Unit> {
    if (++polls == 1) {
      cx.waker().wake_by_ref();  // POLLING -> REPOLL
      cx.waker().wake_by_ref();  // REPOLL stays REPOLL
      trace("impatient: poll 1 woke itself twice -> Pending");  // (7)
      return Pending;
    }
    trace("impatient: poll 2 -> Ready (two wakes, exactly one re-poll)");  // (8)
    return Ready();
  }));
  wait_line(8);

  trace("spawn_ok(faulty): its poll throws");  // (9)
  pool->spawn_ok(pollwake::poll_fn([](Context&) -> Poll<Unit> {
    trace("faulty: poll 1 throws std::runtime_error");  // (10)
    throw std::runtime_error("bad input");
  }));
  wait_line(11);

  trace("spawn_with_handle(answer), spawn_ok(sleeper), then block_on(handle)");  // (12)
  // [START handle]
  auto handle = pool->spawn_with_handle(pollwake::poll_fn([](Context&) -> Poll<int> {
    trace("answer: poll 1 -> Ready(42)");  // (13)
    return Ready(42);
  }));
  // [END handle]
  pool->spawn_ok(pollwake::poll_fn(
      [bye = SaysGoodbye("sleeper destroyed at shutdown (futures-rs leaks it)")](  // (18)
          Context& cx) -> Poll<Unit> {
        keep(g_sleeper_waker, cx.waker());
        trace("sleeper: poll 1 -> Pending; nobody will wake it");  // (14)
        return Pending;
      }));
  // worker-0 takes its queue in order: once it has polled the sleeper, the
  // answer has finished and its output sits in the handle's slot, so the
  // first poll of block_on finds it (and the trace is the same on every run).
  wait_line(14);
  // [START block_on_handle]
  int answer = pollwake::block_on(std::move(handle));
  trace("block_on(handle) -> " + std::to_string(answer));  // (15)
  // [END block_on_handle]

  // [START shutdown]
  trace("drops the last ThreadPool handle");  // (16)
  pool.reset();  // worker-0 stops and is joined; then the sleeper is destroyed
  trace("the pool is gone; waking the sleeper's waker does nothing");  // (19)
  std::move(*take(g_sleeper_waker)).wake();
  // [END shutdown]
  trace("end");  // (20)
  return 0;
}
