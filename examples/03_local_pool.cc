// examples/03_local_pool.cc: a LocalPool runs many tasks on one thread,
// polling only the woken ones, in passes.
//
//   bash .ci/tour.sh 03        (or: bazel run //examples:03_local_pool)
//
// The Rust program this example mirrors (futures-rs's LocalPool):
//
//   let mut pool = LocalPool::new();
//   let spawner = pool.spawner();
//   spawner.spawn_local(counter())?;   // yields twice, then finishes
//   spawner.spawn_local(waiter())?;    // waits for a flag the opener sets
//   spawner.spawn_local(opener(spawner.clone()))?; // spawns `child`, sets it
//   spawner.spawn_local(spinner())?;   // yields forever
//   pool.run_until_stalled();
//   let answer = spawner.spawn_local_with_handle(async { 6 * 7 })?;
//   println!("{}", pool.run_until(answer));
//   drop(pool);                        // drops the spinner, unfinished
//
// What to watch: nothing runs until the pool does; each pass polls the tasks
// that were woken before it began, in the order they were woken (a task
// spawned or woken during a pass waits for the next one); run_until_stalled
// returns after a pass in which the only wake was the spinner waking itself;
// dropping the pool destroys the tasks it still holds.
//
// Each trace line is numbered; `// (n)` marks the statement that prints [n].
// examples/03_local_pool.expected holds the output, and a test compares it.

#include <cstdio>
#include <optional>
#include <string>
#include <utility>

#include "executor/local_pool.h"
#include "poll/context.h"
#include "poll/poll.h"
#include "poll/waker.h"

using pollwake::Context;
using pollwake::LocalPool;
using pollwake::LocalSpawner;
using pollwake::Pending;
using pollwake::Poll;
using pollwake::Ready;
using pollwake::Unit;
using pollwake::Waker;

namespace {

int g_step = 0;
void trace(const std::string& who, const std::string& text) {
  std::printf("[%d] %s: %s\n", ++g_step, who.c_str(), text.c_str());
}

// [START yielder]
// Yields `yields` times (wakes itself, returns Pending), then is Ready;
// yields < 0 means forever. Rust: `for _ in 0..n { yield_now().await }`.
class Yielder {
 public:
  using Output = Unit;
  Yielder(std::string name, int yields) : name_(std::move(name)), left_(yields) {}
  Yielder(Yielder&& o) noexcept
      : name_(std::move(o.name_)), left_(o.left_), polls_(o.polls_), live_(std::exchange(o.live_, false)) {}
  ~Yielder() {
    if (live_ && left_ != 0) trace(name_, "dropped unfinished (the pool destroys its tasks)");  // (19)
  }

  Poll<Unit> poll(Context& cx) {
    std::string what = "poll #" + std::to_string(++polls_);
    if (left_ == 0) {
      trace(name_, what + " -> Ready");  // (8), (11)
      return Ready();
    }
    if (left_ > 0) --left_;
    cx.waker().wake_by_ref();  // queued again, at the back, for the next pass
    trace(name_, what + " -> yield (woke itself)");  // (2), (6), (7), (10), (12), (13), (16)
    return Pending;
  }

 private:
  std::string name_;
  int left_;
  int polls_ = 0;
  bool live_ = true;
};
// [END yielder]

// The flag the waiter waits for, and the waiter's stored waker.
struct Flag {
  bool set = false;
  std::optional<Waker> waker;
};

class Waiter {
 public:
  using Output = Unit;
  explicit Waiter(Flag* flag) : flag_(flag) {}
  Poll<Unit> poll(Context& cx) {
    ++polls_;
    if (flag_->set) {
      trace("waiter", "poll #" + std::to_string(polls_) + " -> Ready (the flag is set)");  // (9)
      return Ready();
    }
    flag_->waker.emplace(cx.waker());
    trace("waiter", "poll #" + std::to_string(polls_) + " -> Pending (waker stored)");  // (3)
    return Pending;
  }

 private:
  Flag* flag_;
  int polls_ = 0;
};

// [START opener]
class Opener {
 public:
  using Output = Unit;
  Opener(LocalSpawner spawner, Flag* flag) : spawner_(std::move(spawner)), flag_(flag) {}
  Poll<Unit> poll(Context&) {
    spawner_.spawn_local(Yielder("child", 0));  // a task spawning a task
    trace("opener", "poll #1: spawned child");  // (4)
    flag_->set = true;
    std::move(*flag_->waker).wake();  // wakes the waiter (polled earlier this pass)
    flag_->waker.reset();
    trace("opener", "set the flag, woke the waiter -> Ready");  // (5)
    return Ready();
  }

 private:
  LocalSpawner spawner_;
  Flag* flag_;
};
// [END opener]

// The task behind the handle: computes 6 * 7 in one poll.
class Answer {
 public:
  using Output = int;
  Poll<int> poll(Context&) {
    trace("answer", "poll #1 -> Ready(42)");  // (17)
    return Ready(6 * 7);
  }
};

}  // namespace

int main() {
  Flag flag;
  {
    // [START local_pool_run]
    LocalPool pool;
    LocalSpawner spawner = pool.spawner();
    spawner.spawn_local(Yielder("counter", 2));
    spawner.spawn_local(Waiter(&flag));
    spawner.spawn_local(Opener(spawner, &flag));
    spawner.spawn_local(Yielder("spinner", -1));
    trace("main", "spawned counter, waiter, opener, spinner; none polled yet");  // (1)
    pool.run_until_stalled();
    trace("main", "run_until_stalled returned; spinner is still queued");  // (14)

    auto answer = spawner.spawn_local_with_handle(Answer{});
    trace("main", "run_until(handle of `answer`)");  // (15)
    int v = pool.run_until(std::move(answer));
    trace("main", "run_until -> " + std::to_string(v));  // (18)
    // [END local_pool_run]
  }  // the pool is dropped here, with the spinner in it
  trace("main", "end");  // (20)
}
