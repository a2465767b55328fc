// tests/interop/adapters_test.cc: the bridge (interop/csharp/bridge.h):
// spawn_as_task (a pollwake future as a C# Task) and TaskFuture (a C# Task
// as a pollwake future), with LocalPool, block_on and a hand-driven loop.
// The ThreadPool case is in adapters_thread_pool_test.cc (executor/'s
// local_pool.h and thread_pool.h cannot yet be included in one file).
#include "interop/csharp/bridge.h"

#include <atomic>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "executor/block_on.h"
#include "executor/local_pool.h"
#include "interop/coro/async_fn.h"
#include "interop/csharp/task.h"
#include "interop/csharp/task_completion_source.h"
#include "interop/csharp/thread_name.h"
#include "poll/box_future.h"
#include "poll/ready.h"
#include "poll/waker_fn.h"
#include "tests/interop/pump_util.h"
#include "tests/support/counting_waker.h"

namespace pollwake::csharp {
namespace {

using testing::kDeadline;
using testing::OnThread;
using pollwake::testing::CountingWaker;

static_assert(Future<TaskFuture<int>>);
static_assert(Future<TaskFuture<void>>);

// CountedFuture: Pending `pendings` times (waking itself), then Ready(value).
struct Counts {
  std::atomic<int> polls{0};
  std::atomic<int> drops{0};
};
class CountedFuture {
 public:
  using Output = int;
  CountedFuture(std::shared_ptr<Counts> c, int pendings, int value)
      : c_(std::move(c)), pendings_(pendings), value_(value) {}
  CountedFuture(CountedFuture&& o) noexcept : c_(std::move(o.c_)), pendings_(o.pendings_), value_(o.value_) {}
  ~CountedFuture() {
    if (c_) c_->drops.fetch_add(1);
  }
  Poll<int> poll(Context& cx) {
    c_->polls.fetch_add(1);
    if (pendings_-- > 0) {
      cx.waker().wake_by_ref();
      return Pending;
    }
    return Ready(value_);
  }

 private:
  std::shared_ptr<Counts> c_;
  int pendings_;
  int value_;
};

TEST(SpawnAsTaskTest, TheFutureStaysLazyUntilTheExecutorPollsIt) {
  LocalPool pool;
  auto counts = std::make_shared<Counts>();
  Task<int> t = spawn_as_task(pool.spawner(), CountedFuture(counts, 2, 7));
  EXPECT_EQ(counts->polls.load(), 0) << "spawning must not poll (futures are inert)";
  EXPECT_FALSE(t.IsCompleted());
  pool.run();  // until no task is left (run_until_stalled would stop at a self-wake)
  EXPECT_EQ(counts->polls.load(), 3);
  ASSERT_TRUE(t.IsCompleted());
  EXPECT_EQ(t.GetResult(), 7);
  EXPECT_EQ(counts->drops.load(), 1);
}

TEST(SpawnAsTaskTest, GenericSpawnFunctionWorksWithAHandDrivenLoop) {
  // The bridge needs nothing of an executor but "poll this until Ready".
  std::optional<LocalBoxFuture<Unit>> spawned;
  auto spawn = [&](auto&& f) { spawned.emplace(boxed_local(std::move(f))); };
  auto counts = std::make_shared<Counts>();
  Task<int> t = spawn_as_task(spawn, CountedFuture(counts, 1, 3));
  ASSERT_TRUE(spawned.has_value());
  Context cx = Context::from_waker(Waker::noop());
  EXPECT_TRUE(spawned->poll(cx).is_pending());
  EXPECT_FALSE(t.IsCompleted());
  EXPECT_TRUE(spawned->poll(cx).is_ready());
  EXPECT_EQ(t.GetResult(), 3);
}

TEST(SpawnAsTaskTest, ContinuationsRunOffTheExecutorByDefault) {
  LocalPool pool;
  Task<int> t = spawn_as_task(pool.spawner(), ready(1));
  std::string where;
  TaskCompletionSource<> done;
  t.OnCompleted([&] {
    where = ThreadName();
    done.SetResult();
  });
  pool.run_until_stalled();
  ASSERT_TRUE(done.Task().Wait(kDeadline)) << "lost continuation";
  EXPECT_EQ(where, "pool") << "RunContinuationsAsynchronously: the pool, not the executor's thread";
}

TEST(SpawnAsTaskTest, NoneRunsContinuationsInlineInsideThePoll) {
  SetThreadName("executor");
  LocalPool pool;
  Task<int> t = spawn_as_task(pool.spawner(), ready(1), TaskCreationOptions::None);
  std::string where;
  t.OnCompleted([&] { where = ThreadName(); });
  pool.run_until_stalled();
  EXPECT_EQ(where, "executor");
}

class ThrowingFuture {
 public:
  using Output = int;
  Poll<int> poll(Context&) { throw std::domain_error("panic in poll"); }
};

TEST(SpawnAsTaskTest, AnExceptionInPollFaultsTheTask) {
  LocalPool pool;
  Task<int> t = spawn_as_task(pool.spawner(), ThrowingFuture{});
  pool.run_until_stalled();
  ASSERT_TRUE(t.IsCompleted());
  EXPECT_TRUE(t.IsFaulted());
  EXPECT_THROW((void)t.GetResult(), std::domain_error);
}

TEST(SpawnAsTaskTest, DroppedUnfinishedFaultsWithTaskCanceled) {
  auto counts = std::make_shared<Counts>();
  std::optional<Task<int>> t;
  {
    LocalPool pool;
    t = spawn_as_task(pool.spawner(), pending<int>());
    pool.run_until_stalled();
    EXPECT_FALSE(t->IsCompleted());
  }  // the pool drops the unfinished future
  ASSERT_TRUE(t->IsCompleted()) << "the C# side would wait forever";
  EXPECT_THROW((void)t->GetResult(), TaskCanceledException);
}


TEST(TaskFutureTest, PendingUntilTheTaskCompletesThenReady) {
  TaskCompletionSource<int> tcs;
  TaskFuture<int> f = task_future(tcs.Task());
  CountingWaker w;
  Context cx = Context::from_waker(w.waker());
  EXPECT_TRUE(f.poll(cx).is_pending());
  EXPECT_TRUE(f.poll(cx).is_pending());
  EXPECT_EQ(w.woken(), 0);
  OnThread("worker", [&] { tcs.SetResult(5); });
  EXPECT_EQ(w.woken(), 1) << "the continuation must wake the waker";
  Poll<int> p = f.poll(cx);
  ASSERT_TRUE(p.is_ready());
  EXPECT_EQ(p.value(), 5);
  EXPECT_THROW((void)f.poll(cx), FuturePolledAfterCompletion);
}

TEST(TaskFutureTest, OnlyTheLatestWakerIsWoken) {
  TaskCompletionSource<int> tcs;
  TaskFuture<int> f = task_future(tcs.Task());
  CountingWaker a;
  CountingWaker b;
  Context ca = Context::from_waker(a.waker());
  Context cb = Context::from_waker(b.waker());
  EXPECT_TRUE(f.poll(ca).is_pending());
  EXPECT_TRUE(f.poll(cb).is_pending());
  tcs.SetResult(1);
  EXPECT_EQ(a.woken(), 0);
  EXPECT_EQ(b.woken(), 1);
}

TEST(TaskFutureTest, ACompletedTaskIsReadyAtTheFirstPollWithoutAWake) {
  TaskFuture<int> f = task_future(Task<int>::FromResult(9));
  CountingWaker w;
  Context cx = Context::from_waker(w.waker());
  EXPECT_EQ(f.poll(cx).value(), 9);
  EXPECT_EQ(w.woken(), 0);
}

TEST(TaskFutureTest, AFaultedTaskRethrowsFromPoll) {
  TaskCompletionSource<> tcs;
  TaskFuture<void> f = task_future(tcs.Task());
  Context cx = Context::from_waker(Waker::noop());
  EXPECT_TRUE(f.poll(cx).is_pending());
  tcs.SetException(std::make_exception_ptr(std::out_of_range("c# threw")));
  EXPECT_THROW((void)f.poll(cx), std::out_of_range);
}

TEST(TaskFutureTest, DroppedFutureIsNotWokenByALaterCompletion) {
  TaskCompletionSource<int> tcs;
  CountingWaker w;
  {
    TaskFuture<int> f = task_future(tcs.Task());
    Context cx = Context::from_waker(w.waker());
    EXPECT_TRUE(f.poll(cx).is_pending());
  }
  tcs.SetResult(1);
  EXPECT_EQ(w.woken(), 0);
  EXPECT_EQ(w.live(), 0) << "the dropped future's waker clone was not released";
}

TEST(TaskFutureTest, BlockOnACSharpTaskCompletedByAnotherThreadNeverLosesTheWake) {
  constexpr int kIterations = 500;
  for (int i = 0; i < kIterations; ++i) {
    TaskCompletionSource<int> tcs;
    std::thread worker([tcs]() mutable { tcs.SetResult(1); });
    // block_on has no deadline of its own; a lost wake would hang here, and
    // Bazel's timeout would end the test. The TSan run checks the handoff.
    int v = block_on(task_future(tcs.Task()));
    worker.join();
    ASSERT_EQ(v, 1) << "iteration " << i;
  }
}

TEST(TaskFutureTest, WakerSwapRacingWithCompletionNeverLosesTheWake) {
  // The race: the task completes on a worker while the future is re-polled
  // with a new waker. Either that poll sees the completion (Ready), or the
  // new waker is woken afterwards; a wake of only the old one is a lost wake.
  constexpr int kIterations = 500;
  for (int i = 0; i < kIterations; ++i) {
    TaskCompletionSource<int> tcs;
    TaskFuture<int> f = task_future(tcs.Task());
    CountingWaker a;
    CountingWaker b;
    Context ca = Context::from_waker(a.waker());
    Context cb = Context::from_waker(b.waker());
    ASSERT_TRUE(f.poll(ca).is_pending());
    std::thread worker([tcs, i]() mutable { tcs.SetResult(i); });
    Poll<int> p = f.poll(cb);
    worker.join();  // the completion, and any wake it does, has happened
    if (p.is_pending()) {
      ASSERT_EQ(b.woken(), 1) << "lost wake at iteration " << i;
      p = f.poll(cb);
      ASSERT_TRUE(p.is_ready()) << "woken but not ready at iteration " << i;
    }
    ASSERT_EQ(p.value(), i);
  }
}

TEST(BridgeTest, RoundTripLazyToEagerToLazy) {
  // A lazy coroutine awaits (through TaskFuture) a C# task that awaits (as a
  // Task) a lazy future spawned on a LocalPool.
  LocalPool pool;
  auto counts = std::make_shared<Counts>();
  auto csharp_side = [](Task<int> rust_work) -> Task<int> { co_return 1 + co_await rust_work; };
  Task<int> eager = csharp_side(spawn_as_task(pool.spawner(), CountedFuture(counts, 1, 20),
                                              TaskCreationOptions::None));
  auto lazy = [](Task<int> t) -> coro::Async<int> { co_return 2 * co_await task_future(t); };
  int out = pool.run_until(lazy(eager));
  EXPECT_EQ(out, 42);
  EXPECT_EQ(counts->polls.load(), 2);
}

}  // namespace
}  // namespace pollwake::csharp
