// tests/interop/task_test.cc: csharp::Task<T> and async methods (eager).
#include "interop/csharp/task.h"

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "interop/coro/frame_stats.h"
#include "interop/csharp/task_completion_source.h"
#include "interop/csharp/thread_name.h"
#include "tests/interop/pump_util.h"

namespace pollwake::csharp {
namespace {

using testing::kDeadline;
using testing::OnThread;

Task<int> AddOneAfter(Task<int> t, int* steps, std::string* thread_after) {
  ++*steps;                 // runs at call time
  int v = co_await t;       // suspends only if t is incomplete
  ++*steps;
  *thread_after = ThreadName();
  co_return v + 1;
}

TEST(TaskTest, RunsSynchronouslyUntilFirstIncompleteAwait) {
  SetThreadName("main");
  TaskCompletionSource<int> tcs;
  int steps = 0;
  std::string after;
  Task<int> t = AddOneAfter(tcs.Task(), &steps, &after);
  EXPECT_EQ(steps, 1) << "an async method must start at once, on the caller's thread";
  EXPECT_FALSE(t.IsCompleted());
  tcs.SetResult(41);
  EXPECT_EQ(steps, 2) << "the continuation should have run inline inside SetResult";
  EXPECT_EQ(after, "main");
  ASSERT_TRUE(t.IsCompleted());
  EXPECT_EQ(t.GetResult(), 42);
}

TEST(TaskTest, CompletesSynchronouslyWhenEverythingAwaitedIsComplete) {
  SetThreadName("main");
  int steps = 0;
  std::string after;
  Task<int> t = AddOneAfter(Task<int>::FromResult(1), &steps, &after);
  EXPECT_TRUE(t.IsCompleted()) << "awaiting a completed task must not suspend";
  EXPECT_EQ(steps, 2);
  EXPECT_EQ(after, "main");
  EXPECT_EQ(t.GetResult(), 2);
}

TEST(TaskTest, ContinuationRunsOnTheCompletingThreadWithNoContext) {
  SetThreadName("main");
  TaskCompletionSource<int> tcs;
  int steps = 0;
  std::string after;
  Task<int> t = AddOneAfter(tcs.Task(), &steps, &after);
  OnThread("worker", [&] { tcs.SetResult(1); });
  ASSERT_TRUE(t.Wait(kDeadline)) << "lost continuation";
  EXPECT_EQ(after, "worker");
  EXPECT_EQ(t.GetResult(), 2);
}

Task<int> Throws(bool before_await, Task<> gate) {
  if (before_await) throw std::runtime_error("early");
  co_await gate;
  throw std::runtime_error("late");
}

TEST(TaskTest, ExceptionBeforeFirstAwaitFaultsTheTaskInsteadOfThrowingFromTheCall) {
  Task<int> t = Throws(true, Task<>::CompletedTask());  // must not throw here (C# rule)
  EXPECT_TRUE(t.IsCompleted());
  EXPECT_TRUE(t.IsFaulted());
  EXPECT_THROW((void)t.GetResult(), std::runtime_error);
}

Task<std::string> CatchesInner(Task<int> inner) {
  try {
    co_await inner;
  } catch (const std::runtime_error& e) {
    co_return std::string("caught ") + e.what();
  }
  co_return "no exception";
}

TEST(TaskTest, ExceptionPropagatesThroughAwaitAsTheSameType) {
  TaskCompletionSource<> gate;
  Task<int> inner = Throws(false, gate.Task());
  Task<std::string> outer = CatchesInner(inner);
  EXPECT_FALSE(outer.IsCompleted());
  gate.SetResult();
  ASSERT_TRUE(outer.IsCompleted());
  EXPECT_TRUE(inner.IsFaulted());
  EXPECT_FALSE(outer.IsFaulted());
  EXPECT_EQ(outer.GetResult(), "caught late");
}

TEST(TaskTest, UnobservedFaultIsDropped) {
  { Task<int> t = Throws(true, Task<>::CompletedTask()); }
  SUCCEED();  // no terminate, no leak (asan config checks leaks)
}

Task<int> Await(Task<int> t, std::atomic<int>* resumed) {
  int v = co_await t;
  resumed->fetch_add(1);
  co_return v;
}

TEST(TaskTest, OneTaskCanBeAwaitedManyTimes) {
  TaskCompletionSource<int> tcs;
  std::atomic<int> resumed{0};
  std::vector<Task<int>> waiters;
  for (int i = 0; i < 5; ++i) waiters.push_back(Await(tcs.Task(), &resumed));
  EXPECT_EQ(resumed.load(), 0);
  tcs.SetResult(9);
  EXPECT_EQ(resumed.load(), 5);
  for (auto& w : waiters) EXPECT_EQ(w.GetResult(), 9);
  Task<int> late = Await(tcs.Task(), &resumed);  // completed already: no suspension
  EXPECT_TRUE(late.IsCompleted());
  EXPECT_EQ(resumed.load(), 6);
}

TEST(TaskTest, FrameFreesItselfWhenTheBodyFinishes) {
  const std::size_t live_before = coro::frame_stats().live();
  TaskCompletionSource<int> tcs;
  std::atomic<int> resumed{0};
  Task<int> t = Await(tcs.Task(), &resumed);
  EXPECT_EQ(coro::frame_stats().live(), live_before + 1);
  tcs.SetResult(1);
  EXPECT_EQ(coro::frame_stats().live(), live_before);
  EXPECT_EQ(t.GetResult(), 1);
}

TEST(TaskTest, DroppingTheHandleDoesNotCancelTheBody) {
  TaskCompletionSource<int> tcs;
  std::atomic<int> resumed{0};
  { (void)Await(tcs.Task(), &resumed); }  // every handle dropped
  tcs.SetResult(3);
  EXPECT_EQ(resumed.load(), 1) << "a C# task runs to completion whoever holds it";
}

struct Flag {
  bool* destroyed;
  ~Flag() { *destroyed = true; }
};

TEST(TaskTest, LocalsAreDestroyedBeforeContinuationsRun) {
  TaskCompletionSource<> gate;
  bool destroyed = false;
  bool seen_by_continuation = false;
  auto body = [](Task<> gate, bool* destroyed) -> Task<> {
    Flag f{destroyed};
    co_await gate;
  };
  Task<> t = body(gate.Task(), &destroyed);
  t.OnCompleted([&] { seen_by_continuation = destroyed; });
  gate.SetResult();
  EXPECT_TRUE(seen_by_continuation);
}

TEST(TaskTest, AMovedFromHandleStillNamesTheSameTask) {
  TaskCompletionSource<int> tcs;
  TaskCompletionSource<int> moved_source = std::move(tcs);
  Task<int> a = tcs.Task();  // NOLINT: use after move is the point: it copied
  Task<int> b = std::move(a);
  moved_source.SetResult(4);
  EXPECT_TRUE(a.IsCompleted());  // NOLINT: as above
  EXPECT_EQ(a.GetResult(), 4);   // NOLINT: as above
  EXPECT_EQ(b.GetResult(), 4);
  EXPECT_FALSE(tcs.TrySetResult(5)) << "both sources complete one task";
}

TEST(TaskTest, WaitWithTimeoutReturnsFalseWhileIncomplete) {
  TaskCompletionSource<int> tcs;
  EXPECT_FALSE(tcs.Task().Wait(std::chrono::milliseconds(1)));
  tcs.SetResult(0);
  EXPECT_TRUE(tcs.Task().Wait(std::chrono::milliseconds(0)));
}

// C#'s Task.Wait() on a faulted task throws (an AggregateException whose
// inner exception is the fault); it does not return as if the task succeeded.
TEST(TaskTest, WaitOnAFaultedTaskThrows) {
  TaskCompletionSource<int> tcs;
  tcs.SetException(std::make_exception_ptr(std::out_of_range("nope")));
  EXPECT_ANY_THROW(tcs.Task().Wait());
  EXPECT_ANY_THROW((void)tcs.Task().Wait(std::chrono::milliseconds(0)));
  bool wrapped = false;
  try {
    tcs.Task().Wait();
  } catch (const AggregateException& e) {
    wrapped = true;
    EXPECT_THROW(std::rethrow_exception(e.InnerException()), std::out_of_range);
  }
  EXPECT_TRUE(wrapped) << "Wait throws AggregateException holding the fault";
  EXPECT_THROW((void)tcs.Task().GetResult(), std::out_of_range) << "GetResult does not wrap";
}

TEST(TaskTest, OnCompletedRunsInlineWhenAlreadyComplete) {
  int ran = 0;
  Task<int>::FromResult(1).OnCompleted([&] { ++ran; });
  EXPECT_EQ(ran, 1);
}

TEST(TaskTest, AwaitRacingWithCompletionResumesExactlyOnce) {
  // The race: a worker completes the source while the awaiting body is
  // between await_ready and registering its continuation.
  constexpr int kIterations = 2000;
  std::atomic<int> resumed{0};
  for (int i = 0; i < kIterations; ++i) {
    TaskCompletionSource<int> tcs;
    std::thread worker([tcs]() mutable { tcs.SetResult(1); });
    Task<int> t = Await(tcs.Task(), &resumed);
    worker.join();
    ASSERT_TRUE(t.Wait(kDeadline)) << "lost continuation at iteration " << i;
  }
  EXPECT_EQ(resumed.load(), kIterations);
}

}  // namespace
}  // namespace pollwake::csharp
