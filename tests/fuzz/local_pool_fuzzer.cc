// tests/fuzz/local_pool_fuzzer.cc: the schedule fuzzer for LocalPool.
//
// Each input is a program: its bytes are read as operations on a LocalPool
// and the wakers of its tasks, and after every operation the harness checks
// what executor/local_pool.h promises:
//   * a task is never polled after it completed (returned Ready or threw),
//     after its future was destroyed, or after its RemoteHandle was dropped;
//     and never re-entrantly;
//   * every task's future is destroyed exactly once: when it completes, when
//     its handle cancels it, or when its pool is dropped (and then at once);
//   * every task that was woken by anyone but itself (spawned, woken from
//     outside the pool or from another thread, woken by another task) and is
//     unfinished has been polled again when run_until_stalled() returns, and
//     when try_run_one() returns false; a task that was woken before the call
//     began (even only by itself) has been polled during it;
//   * try_run_one() returns true exactly when one task completed;
//   * run_until(f) returns f's output, leaving the other tasks in the pool;
//   * run* inside a task throws EnterError; an exception from a plain task's
//     poll propagates out of the run* call, and the pool stays usable; a
//     handle task's exception reaches its RemoteHandle instead;
//   * a waker whose pool is gone does nothing when woken; a spawner whose
//     pool is gone throws SpawnError (is_shutdown()).
// Memory errors and leaks are left to ASan/LSan, which both builds use.
//
// Encoding: an operation is one byte (its value modulo kNumOps picks the
// operation) followed by up to two argument bytes; a missing byte reads as
// 0, so every byte string is a valid program. A task's script is fixed at
// spawn from two bytes: how many polls until Ready (0 = never) and flags
// (wake itself when Pending, wake another task, spawn a child, throw instead
// of completing, try a nested run, wake by consuming a clone).
// tests/fuzz/make_corpus.py writes the hand-made inputs with these names.
#include "tests/fuzz/local_pool_fuzzer.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "executor/enter.h"
#include "executor/local_pool.h"
#include "executor/spawn_error.h"
#include "poll/context.h"
#include "poll/poll.h"
#include "poll/waker.h"

namespace pollwake::fuzz {
namespace {

// [START fuzz_ops]
enum Op : std::uint8_t {
  kSpawn,              // args: ready_after, flags
  kSpawnWithHandle,    // args: ready_after, flags
  kWake,               // arg: which held waker (consumed)
  kWakeByRef,          // arg: which held waker
  kCloneWaker,         // arg: which held waker
  kDropWaker,          // arg: which held waker
  kTakeWaker,          // arg: which task: clone the waker of its latest poll
  kRunUntilStalled,
  kTryRunOne,
  kDropPool,
  kNewPool,
  kWakeFromThread,     // arg: which held waker: wake_by_ref on another thread
  kRunUntil,           // arg: polls of the main future (it wakes itself)
  kPollHandle,         // arg: which RemoteHandle
  kDropHandle,         // args: which RemoteHandle, forget() if odd
  kSpawnOnOldSpawner,  // spawn through the spawner of a dropped pool
  kNumOps
};

enum Flag : std::uint8_t {
  kSelfWake = 1,      // wake itself when it returns Pending
  kWakeOther = 2,     // wake another task during each of its first polls
  kSpawnChild = 4,    // spawn a child task during its first poll
  kThrow = 8,         // throw instead of returning Ready
  kNestedRun = 16,    // call run_until_stalled inside its poll (refused)
  kWakeByClone = 32,  // self-wake by cloning its waker and consuming the clone
};
// [END fuzz_ops]

constexpr std::size_t kMaxTasks = 64;
constexpr int kCrossWakePolls = 3;  // bounds wake ping-pong between tasks
constexpr int kMaxDepth = 3;        // children of children of children

// A cross-task wake of a task that already queued itself (by a self-wake)
// coalesces with that queue entry, yet must count as progress:
// run_until_stalled polls the task again before it returns. The fuzzer found
// LocalPool breaking this once; the input is now corpus/coalesced_cross_wake
// and tests/executor/local_pool_test.cc pins it too.

const char* g_input_name = "(libFuzzer input)";
int g_op_index = 0;
const char* g_op_name = "";
Coverage g_coverage;

const char* const kOpNames[kNumOps] = {
    "spawn",          "spawn_with_handle", "wake",          "wake_by_ref",
    "clone_waker",    "drop_waker",        "take_waker",    "run_until_stalled",
    "try_run_one",    "drop_pool",         "new_pool",      "wake_from_thread",
    "run_until",      "poll_handle",       "drop_handle",   "spawn_on_old_spawner"};

[[noreturn]] void Fail(const char* fmt, ...) {
  std::fprintf(stderr, "local_pool_fuzzer: CHECK failed in %s, operation #%d (%s): ",
               g_input_name, g_op_index, g_op_name);
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fprintf(stderr, "\n");
  std::fflush(stderr);
  std::abort();
}

#define FUZZ_CHECK(cond, ...) \
  do {                        \
    if (!(cond)) Fail(__VA_ARGS__); \
  } while (0)

struct FuzzPanic {
  int id;
};

// What the harness knows about one task.
struct Rec {
  int id = 0;
  int pool_gen = 0;
  int ready_after = 0;  // polls until Ready; 0 = never
  std::uint8_t flags = 0;
  int depth = 0;
  int polls = 0;
  bool finished = false;   // returned Ready, or threw
  bool threw = false;
  int destroyed = 0;       // times its future's destructor ran
  bool in_poll = false;
  bool woken = false;      // woken by someone else (or spawned) since its latest poll began
  bool self_woken = false; // woke itself during its latest poll
  bool cancelled = false;  // its RemoteHandle was dropped
  bool has_handle = false;
  bool never_spawned = false;  // the spawn was refused
  std::optional<Waker> waker;  // a clone of its latest poll's waker
};

class Harness;

// The future every task runs: it reports to the harness.
class FuzzFuture {
 public:
  using Output = int;
  FuzzFuture(Harness* h, int id) : h_(h), id_(id) {}
  FuzzFuture(FuzzFuture&& o) noexcept : h_(o.h_), id_(o.id_), live_(std::exchange(o.live_, false)) {}
  FuzzFuture& operator=(FuzzFuture&&) = delete;
  ~FuzzFuture();
  Poll<int> poll(Context& cx);

 private:
  Harness* h_;
  int id_;
  bool live_ = true;  // a moved-from FuzzFuture is not the task's future
};

// run_until's main future: Ready(n) on its n+1-th poll, waking itself before.
struct MainFuture {
  using Output = int;
  int n;
  int polls = 0;
  Poll<int> poll(Context& cx) {
    if (polls++ == n) return Ready(n);
    cx.waker().wake_by_ref();
    return Pending;
  }
};

class Harness {
 public:
  explicit Harness(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  void run() {
    new_pool();
    while (pos_ < size_) {
      std::uint8_t op = next() % kNumOps;
      ++g_op_index;
      g_op_name = kOpNames[op];
      ++g_coverage.ops[op];
      step(static_cast<Op>(op));
      check_always();
    }
    g_op_name = "teardown";
    teardown();
  }

  // ------------------------------------------------------------ the task side

  Poll<int> on_poll(int id, Context& cx) {
    Rec& r = recs_[id];
    FUZZ_CHECK(!r.finished, "task %d polled after it completed", id);
    FUZZ_CHECK(r.destroyed == 0, "task %d polled after its future was destroyed", id);
    FUZZ_CHECK(!r.cancelled, "task %d polled after its RemoteHandle was dropped", id);
    FUZZ_CHECK(!r.in_poll, "task %d polled re-entrantly", id);
    FUZZ_CHECK(pool_ && r.pool_gen == pool_gen_, "task %d polled by a pool it does not belong to",
               id);
    r.in_poll = true;
    ++r.polls;
    ++g_coverage.polls;
    r.woken = false;
    r.self_woken = false;
    if (r.waker) {
      r.waker->clone_from(cx.waker());
    } else {
      r.waker.emplace(cx.waker());
    }
    if (r.flags & kNestedRun) {
      bool refused = false;
      try {
        pool_->run_until_stalled();
      } catch (const EnterError&) {
        refused = true;
      }
      FUZZ_CHECK(refused, "task %d: run_until_stalled inside a task was not refused", id);
      ++g_coverage.nested_refusals;
    }
    if ((r.flags & kSpawnChild) && r.polls == 1 && r.depth < kMaxDepth &&
        recs_.size() < kMaxTasks) {
      // A child with the parent's script, one level deeper.
      spawn(r.ready_after, r.flags, /*with_handle=*/false, r.depth + 1);
    }
    if ((r.flags & kWakeOther) && r.polls <= kCrossWakePolls && recs_.size() > 1) {
      int target = static_cast<int>((id + r.polls) % recs_.size());
      if (target != id && recs_[target].waker) {
        Rec& t = recs_[target];
        if (t.self_woken && alive(t)) ++g_coverage.coalesced_cross_wakes;
        note_wake(target);
        t.waker->wake_by_ref();
      }
    }
    Rec& me = recs_[id];  // spawn() may have grown recs_ (a deque: still valid)
    if (me.ready_after != 0 && me.polls >= me.ready_after) {
      me.in_poll = false;
      me.finished = true;
      if (me.flags & kThrow) {
        me.threw = true;
        throw FuzzPanic{id};
      }
      ++g_coverage.completions;
      return Ready(id);
    }
    if (me.flags & kSelfWake) {
      me.self_woken = true;
      if (me.flags & kWakeByClone) {
        Waker clone = cx.waker();
        std::move(clone).wake();
      } else {
        cx.waker().wake_by_ref();
      }
    }
    me.in_poll = false;
    return Pending;
  }

  void on_destroy(int id) {
    Rec& r = recs_[id];
    ++r.destroyed;
    FUZZ_CHECK(r.destroyed == 1, "task %d's future destroyed %d times", id, r.destroyed);
    FUZZ_CHECK(!r.in_poll, "task %d's future destroyed during its own poll", id);
  }

 private:
  std::uint8_t next() { return pos_ < size_ ? data_[pos_++] : 0; }

  bool alive(const Rec& r) const {
    return pool_ && r.pool_gen == pool_gen_ && !r.finished && r.destroyed == 0 &&
           !r.never_spawned;
  }

  // A wake by anyone but the task itself, from outside its poll.
  void note_wake(int id) {
    Rec& r = recs_[id];
    if (alive(r)) {
      if (r.in_poll) {
        r.self_woken = true;
      } else {
        r.woken = true;
      }
    } else if (r.pool_gen != pool_gen_ || !pool_) {
      ++g_coverage.stale_wakes;
    }
  }

  int spawn(int ready_after, std::uint8_t flags, bool with_handle, int depth) {
    int id = static_cast<int>(recs_.size());
    Rec& r = recs_.emplace_back();
    r.id = id;
    r.pool_gen = pool_gen_;
    r.ready_after = ready_after;
    r.flags = flags;
    r.depth = depth;
    r.woken = true;  // spawned = woken once
    r.has_handle = with_handle;
    if (with_handle) {
      handles_.emplace_back(id, spawner_->spawn_local_with_handle(FuzzFuture(this, id)));
    } else {
      spawner_->spawn_local(FuzzFuture(this, id));
    }
    return id;
  }

  void new_pool() {
    if (pool_) return;
    pool_ = std::make_unique<LocalPool>();
    spawner_.emplace(pool_->spawner());
    ++pool_gen_;
  }

  void drop_pool() {
    if (!pool_) return;
    pool_.reset();
    old_spawners_.push_back(std::move(*spawner_));
    spawner_.reset();
    for (const Rec& r : recs_) {
      if (r.pool_gen == pool_gen_) {
        FUZZ_CHECK(r.destroyed == 1, "dropping the pool left task %d's future %s", r.id,
                   r.destroyed == 0 ? "alive" : "destroyed twice");
      }
    }
  }

  // Runs a run* call that may propagate a task's exception.
  template <class F>
  bool guarded(F&& f) {
    try {
      f();
      return true;
    } catch (const FuzzPanic& p) {
      const Rec& r = recs_[p.id];
      FUZZ_CHECK(r.threw && !r.has_handle,
                 "an exception of task %d escaped the pool (handle tasks keep theirs)", p.id);
      FUZZ_CHECK(r.destroyed == 1, "task %d threw, but its future was not destroyed", p.id);
      ++g_coverage.exceptions;
      return false;
    }
  }

  struct Snapshot {
    std::vector<bool> pending;  // woken (by anyone) before the call
    std::vector<int> polls;
    int destroyed = 0;
  };
  Snapshot snapshot() const {
    Snapshot s;
    for (const Rec& r : recs_) {
      s.pending.push_back(alive(r) && (r.woken || r.self_woken));
      s.polls.push_back(r.polls);
      s.destroyed += r.destroyed;
    }
    return s;
  }
  int destroyed_total() const {
    int n = 0;
    for (const Rec& r : recs_) n += r.destroyed;
    return n;
  }

  // What a stalled pool promises (after run_until_stalled, or try_run_one
  // returning false).
  void check_stalled(const Snapshot& before, const char* call) {
    for (const Rec& r : recs_) {
      if (r.pool_gen != pool_gen_ || r.never_spawned) continue;
      if (r.cancelled) {
        FUZZ_CHECK(r.destroyed == 1, "%s returned, but task %d, whose handle was dropped, "
                   "is still alive", call, r.id);
        continue;
      }
      if (!alive(r)) continue;
      FUZZ_CHECK(!r.woken, "%s returned, but task %d was woken (spawned, from outside the pool "
                 "or by another task) and not polled since (lost wakeup)", call, r.id);
      if (static_cast<std::size_t>(r.id) < before.pending.size() && before.pending[r.id]) {
        FUZZ_CHECK(r.polls > before.polls[r.id], "%s returned without polling task %d, which "
                   "was woken before the call", call, r.id);
      }
    }
  }

  void step(Op op) {
    switch (op) {
      case kSpawn:
      case kSpawnWithHandle: {
        int ready_after = next() % 5;
        std::uint8_t flags = next();
        if (!pool_ || recs_.size() >= kMaxTasks) return;
        spawn(ready_after, flags, op == kSpawnWithHandle, 0);
        return;
      }
      case kWake: {
        if (wakers_.empty()) return;
        std::size_t i = next() % wakers_.size();
        auto [id, w] = std::move(wakers_[i]);
        wakers_.erase(wakers_.begin() + static_cast<std::ptrdiff_t>(i));
        note_wake(id);
        std::move(w).wake();
        return;
      }
      case kWakeByRef: {
        if (wakers_.empty()) return;
        auto& [id, w] = wakers_[next() % wakers_.size()];
        note_wake(id);
        w.wake_by_ref();
        return;
      }
      case kCloneWaker: {
        if (wakers_.empty()) return;
        auto pair = wakers_[next() % wakers_.size()];
        wakers_.push_back(std::move(pair));
        return;
      }
      case kDropWaker: {
        if (wakers_.empty()) return;
        wakers_.erase(wakers_.begin() + static_cast<std::ptrdiff_t>(next() % wakers_.size()));
        return;
      }
      case kTakeWaker: {
        if (recs_.empty()) return;
        const Rec& r = recs_[next() % recs_.size()];
        if (r.waker) wakers_.emplace_back(r.id, *r.waker);
        return;
      }
      case kRunUntilStalled: {
        if (!pool_) return;
        Snapshot before = snapshot();
        if (guarded([&] { pool_->run_until_stalled(); })) check_stalled(before, "run_until_stalled");
        return;
      }
      case kTryRunOne: {
        if (!pool_) return;
        Snapshot before = snapshot();
        bool result = false;
        if (!guarded([&] { result = pool_->try_run_one(); })) return;
        int finished = destroyed_total() - before.destroyed;
        FUZZ_CHECK(result == (finished == 1) && finished <= 1,
                   "try_run_one returned %s, but %d task(s) finished during it",
                   result ? "true" : "false", finished);
        if (!result) check_stalled(before, "try_run_one (false)");
        return;
      }
      case kDropPool:
        drop_pool();
        return;
      case kNewPool:
        new_pool();
        return;
      case kWakeFromThread: {
        if (wakers_.empty()) return;
        std::size_t i = next() % wakers_.size();
        Waker clone = wakers_[i].second;  // the thread gets its own clone
        note_wake(wakers_[i].first);
        std::thread t([w = std::move(clone)] { w.wake_by_ref(); });
        t.join();
        return;
      }
      case kRunUntil: {
        int n = next() % 4;
        if (!pool_) return;
        int out = -1;
        if (guarded([&] { out = pool_->run_until(MainFuture{n}); })) {
          FUZZ_CHECK(out == n, "run_until returned %d, expected %d", out, n);
        }
        return;
      }
      case kPollHandle: {
        if (handles_.empty()) return;
        std::size_t i = next() % handles_.size();
        int id = handles_[i].first;
        const Rec& r = recs_[id];
        Context cx = Context::from_waker(Waker::noop());
        bool done = true;
        try {
          Poll<int> p = handles_[i].second.poll(cx);
          if (p.is_ready()) {
            int v = std::move(p).value();
            FUZZ_CHECK(v == id && r.finished && !r.threw,
                       "the handle of task %d gave %d (finished %d, threw %d)", id, v,
                       r.finished, r.threw);
          } else {
            FUZZ_CHECK(alive(r), "the handle of task %d is Pending, but the task is %s", id,
                       r.finished ? "finished" : "gone");
            done = false;
          }
        } catch (const FuzzPanic& p) {
          FUZZ_CHECK(p.id == id && r.threw, "the handle of task %d rethrew a wrong exception",
                     id);
        } catch (const TaskCanceled&) {
          FUZZ_CHECK(r.pool_gen != pool_gen_ || !pool_,
                     "the handle of task %d says canceled, but its pool is alive", id);
          FUZZ_CHECK(r.destroyed == 1, "task %d canceled but not destroyed", id);
        }
        if (done) handles_.erase(handles_.begin() + static_cast<std::ptrdiff_t>(i));
        return;
      }
      case kDropHandle: {
        if (handles_.empty()) return;
        std::size_t i = next() % handles_.size();
        bool forget = next() & 1;
        auto [id, handle] = std::move(handles_[i]);
        handles_.erase(handles_.begin() + static_cast<std::ptrdiff_t>(i));
        Rec& r = recs_[id];
        if (forget) {
          std::move(handle).forget();
        } else {
          if (alive(r)) {
            r.cancelled = true;
            ++g_coverage.cancels;
          }
          // `handle` is destroyed at the end of this scope: cancels the task.
        }
        return;
      }
      case kSpawnOnOldSpawner: {
        if (old_spawners_.empty() || recs_.size() >= kMaxTasks) return;
        int id = static_cast<int>(recs_.size());
        Rec& r = recs_.emplace_back();
        r.id = id;
        r.pool_gen = -1;
        r.never_spawned = true;
        bool refused = false;
        try {
          old_spawners_.back().spawn_local(FuzzFuture(this, id));
        } catch (const SpawnError& e) {
          refused = e.is_shutdown();
        }
        FUZZ_CHECK(refused, "spawning on a dropped pool's spawner did not throw "
                   "SpawnError::shutdown");
        FUZZ_CHECK(recs_[id].destroyed == 1, "the refused future was not destroyed once");
        ++g_coverage.spawn_refusals;
        return;
      }
      case kNumOps:
        return;
    }
  }

  // After every operation.
  void check_always() {
    for (const Rec& r : recs_) {
      FUZZ_CHECK(!r.in_poll, "task %d is still marked as being polled", r.id);
      if (r.finished) {
        FUZZ_CHECK(r.destroyed == 1, "task %d finished, but its future was %s", r.id,
                   r.destroyed == 0 ? "not destroyed" : "destroyed twice");
      }
      if (!r.never_spawned && (r.pool_gen != pool_gen_ || !pool_)) {
        FUZZ_CHECK(r.destroyed == 1, "task %d outlived its pool", r.id);
      }
    }
  }

  void teardown() {
    handles_.clear();
    drop_pool();
    wakers_.clear();
    old_spawners_.clear();
    for (const Rec& r : recs_) {
      FUZZ_CHECK(r.destroyed == 1, "at the end, task %d's future was destroyed %d times", r.id,
                 r.destroyed);
    }
    // The wakers the records keep are the last references to the tasks.
    recs_.clear();
  }

  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  std::deque<Rec> recs_;  // a deque: references stay valid as it grows
  std::unique_ptr<LocalPool> pool_;
  int pool_gen_ = 0;
  std::optional<LocalSpawner> spawner_;
  std::vector<LocalSpawner> old_spawners_;
  std::vector<std::pair<int, Waker>> wakers_;  // held "outside" the pool
  std::vector<std::pair<int, RemoteHandle<int>>> handles_;
};

FuzzFuture::~FuzzFuture() {
  if (live_) h_->on_destroy(id_);
}

Poll<int> FuzzFuture::poll(Context& cx) { return h_->on_poll(id_, cx); }

}  // namespace

void set_input_name(const char* name) { g_input_name = name; }
const Coverage& coverage() { return g_coverage; }

}  // namespace pollwake::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  pollwake::fuzz::g_op_index = 0;
  pollwake::fuzz::Harness h(data, size);
  h.run();
  return 0;
}
