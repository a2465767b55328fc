// examples/01b_toy_executor.cc: the smallest executor that works, before the
// fast ones.
//
//   bash .ci/tour.sh 01b       (or: bazel run //examples:01b_toy_executor)
//
// 01 polled one future by hand. An executor does that for you: it keeps the
// tasks that are ready to run, polls them, and when a task's waker is woken
// it puts the task back. This is the executor of the async book's "Build an
// Executor" chapter: about fifty lines of code, and thirty more for a
// block_on:
//
//   * a task is a boxed future behind a lock, and one waker made for it;
//   * the channel is a queue behind a mutex: spawn sends the task, and the
//     task's waker sends it again;
//   * run() receives tasks until the channel is empty, and polls each one;
//   * toy_block_on polls one future on this thread and, between polls,
//     sleeps on a mutex and condition variable until the waker sets a flag.
//
// It is correct, and it is slow in ways chapter 2 measures and removes: a
// lock on every wake, an allocation per task for the box, another for the
// waker and one for the shared task, a duplicate queue entry for every extra
// wake (part 1, task b), and a notify on every wake even when nobody sleeps.
// docs/02_executors.md starts from this list.
//
// Each trace line is numbered; `// (n)` marks the statement that prints [n].
// Indented `waker:` lines are the toy's wakers speaking.

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "examples/trace.h"
#include "poll/box_future.h"
#include "poll/context.h"
#include "poll/future.h"
#include "poll/poll.h"
#include "poll/waker.h"
#include "poll/waker_fn.h"

using pollwake::Context;
using pollwake::LocalBoxFuture;
using pollwake::OutputOf;
using pollwake::Pending;
using pollwake::Poll;
using pollwake::Ready;
using pollwake::Unit;
using pollwake::Waker;
using pollwake::examples::trace;

namespace {

// [START toy_executor]
struct ToyTask {
  std::string name;
  std::mutex mu;                                // one poller at a time
  std::optional<LocalBoxFuture<Unit>> future;  // empty once Ready
  std::optional<Waker> waker;                   // made once, at spawn
};

class Channel {  // the ready queue: every send takes the lock
 public:
  void send(std::shared_ptr<ToyTask> task) {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(task));
  }
  std::shared_ptr<ToyTask> try_recv() {
    std::lock_guard lock(mu_);
    if (queue_.empty()) return nullptr;
    std::shared_ptr<ToyTask> task = std::move(queue_.front());
    queue_.pop_front();
    return task;
  }

 private:
  std::mutex mu_;
  std::deque<std::shared_ptr<ToyTask>> queue_;
};

class ToyExecutor {
 public:
  void spawn(std::string name, LocalBoxFuture<Unit> future) {
    auto task = std::make_shared<ToyTask>();
    task->name = std::move(name);
    task->future.emplace(std::move(future));
    // The waker sends the task back, and it owns the task (Rust: an
    // Arc<Task>): a task that waits for someone else's wake is in no queue,
    // so its wakers are what keep it alive. The task also holds its own
    // waker, a cycle that run() breaks when the task finishes; a task never
    // woken again leaks, as in Rust. The channel must outlive every waker.
    task->waker = pollwake::waker_fn([ch = &channel_, t = task] {
      std::printf("    waker: channel.send(%s)\n", t->name.c_str());
      ch->send(t);
    });
    channel_.send(std::move(task));  // queued, not polled: futures are inert
  }

  void run() {  // until the channel is empty
    while (std::shared_ptr<ToyTask> task = channel_.try_recv()) {
      std::lock_guard lock(task->mu);
      if (!task->future) {
        trace("run: %s is finished; this entry was a duplicate wake", task->name.c_str());  // (11)
        continue;
      }
      trace("run: poll %s", task->name.c_str());  // (3), (5), (7), (9)
      Context cx = Context::from_waker(*task->waker);
      if (task->future->poll(cx).is_ready()) {
        task->future.reset();
        task->waker.reset();  // breaks the task -> waker -> task cycle
      }
    }
  }

 private:
  Channel channel_;
};

template <pollwake::Future F>
OutputOf<F> toy_block_on(F future) {
  struct Signal {
    std::mutex mu;
    std::condition_variable cv;
    bool woken = false;
  };
  auto signal = std::make_shared<Signal>();
  Waker waker = pollwake::waker_fn([signal] {
    {
      std::lock_guard lock(signal->mu);
      signal->woken = true;
    }
    signal->cv.notify_one();  // a notify on every wake, asleep or not
  });
  Context cx = Context::from_waker(waker);
  for (;;) {
    Poll<OutputOf<F>> p = future.poll(cx);
    if (p.is_ready()) return std::move(p).value();
    trace("toy_block_on: Pending, so it sleeps on the condition variable");  // (15)
    std::unique_lock lock(signal->mu);
    // A toy that waited forever would hang on a lost wakeup; this one says so.
    if (!signal->cv.wait_for(lock, std::chrono::seconds(10), [&] { return signal->woken; })) {
      std::printf("toy_block_on: no wake within 10 s (a lost wakeup)\n");
      std::exit(1);
    }
    signal->woken = false;
    trace("toy_block_on: woken, polls again");  // (16)
  }
}
// [END toy_executor]

// ---------------------------------------------------------------------------
// The futures the toy runs.

// Pending `wakes_left` more times; each Pending first wakes its own waker
// `wakes_per_poll` times (once is enough; twice shows the duplicate entry).
class SelfWaking {
 public:
  using Output = Unit;
  SelfWaking(const char* name, int pendings, int wakes_per_poll)
      : name_(name), pendings_(pendings), wakes_per_poll_(wakes_per_poll) {}

  Poll<Unit> poll(Context& cx) {
    if (pendings_ == 0) {
      trace("%s: Ready", name_);  // (8), (10)
      return Ready();
    }
    --pendings_;
    trace("%s: Pending, wakes itself %s", name_, wakes_per_poll_ == 1 ? "once" : "twice");  // (4), (6)
    for (int i = 0; i < wakes_per_poll_; ++i) cx.waker().wake_by_ref();
    return Pending;
  }

 private:
  const char* name_;
  int pendings_;
  int wakes_per_poll_;
};

// Pending on the first poll, which starts a thread that wakes a clone of the
// waker; Ready(21 * 2) on the next poll. The thread prints nothing, so the
// trace does not depend on when it runs.
class FromAnotherThread {
 public:
  using Output = int;
  FromAnotherThread() = default;
  FromAnotherThread(FromAnotherThread&&) = delete;  // the thread points at *this
  ~FromAnotherThread() {
    if (thread_.joinable()) thread_.join();
  }

  Poll<int> poll(Context& cx) {
    if (!thread_.joinable()) {
      trace("FromAnotherThread: Pending; a thread will wake the waker");  // (14)
      thread_ = std::thread([this, w = cx.waker()] {
        {
          std::lock_guard lock(mu_);
          value_ = 21 * 2;
        }
        w.wake_by_ref();
      });
      return Pending;
    }
    std::lock_guard lock(mu_);
    if (!value_) return Pending;  // not reached: the wake follows the value
    trace("FromAnotherThread: Ready(%d)", *value_);  // (17)
    return Ready(*value_);
  }

 private:
  std::mutex mu_;
  std::optional<int> value_;
  std::thread thread_;
};

// toy_block_on takes the future by value; this one cannot move, so it is
// polled through a small forwarding future that owns it on the heap.
struct Heap {
  using Output = int;
  std::unique_ptr<FromAnotherThread> f = std::make_unique<FromAnotherThread>();
  Poll<int> poll(Context& cx) { return f->poll(cx); }
};

}  // namespace

int main() {
  // [START toy_run]
  ToyExecutor executor;
  executor.spawn("a", pollwake::boxed_local(SelfWaking("a", 1, 1)));
  executor.spawn("b", pollwake::boxed_local(SelfWaking("b", 1, 2)));
  trace("main: spawned a and b; nothing has run");  // (1)
  trace("main: run()");  // (2)
  executor.run();
  trace("main: run() returned: the channel is empty");  // (12)
  // [END toy_run]

  trace("main: toy_block_on(FromAnotherThread)");  // (13)
  int v = toy_block_on(Heap{});
  trace("main: toy_block_on returned %d", v);  // (18)
  return 0;
}
