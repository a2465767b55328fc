// tests/interop/sync_context_test.cc: csharp::SynchronizationContext, the
// single-threaded one, and where `await` continuations go with and without
// one (C#'s capture rules).
#include "interop/csharp/synchronization_context.h"

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "interop/csharp/async_pump.h"
#include "interop/csharp/task.h"
#include "interop/csharp/task_completion_source.h"
#include "interop/csharp/thread_name.h"
#include "interop/csharp/thread_pool.h"
#include "tests/interop/pump_util.h"

namespace pollwake::csharp {
namespace {

using testing::kDeadline;
using testing::OnThread;
using testing::PumpUntil;

TEST(SynchronizationContextTest, CurrentIsNullOnAFreshThread) {
  SingleThreadSynchronizationContext mine;
  SynchronizationContextScope scope(&mine);  // this thread has one; a new thread must not
  bool fresh_has_none = false;
  OnThread("fresh", [&] { fresh_has_none = SynchronizationContext::Current() == nullptr; });
  EXPECT_TRUE(fresh_has_none);
}

TEST(SynchronizationContextTest, ScopeSetsAndRestoresTheCurrentContext) {
  SingleThreadSynchronizationContext a, b;
  SynchronizationContext* before = SynchronizationContext::Current();
  {
    SynchronizationContextScope sa(&a);
    EXPECT_EQ(SynchronizationContext::Current(), &a);
    {
      SynchronizationContextScope sb(&b);
      EXPECT_EQ(SynchronizationContext::Current(), &b);
    }
    EXPECT_EQ(SynchronizationContext::Current(), &a);
  }
  EXPECT_EQ(SynchronizationContext::Current(), before);
}

TEST(SingleThreadSynchronizationContextTest, RunsPostedItemsInOrderOnThePumpingThread) {
  SetThreadName("ui");
  SingleThreadSynchronizationContext ctx;
  std::vector<std::string> log;  // touched only by the pumping thread
  std::vector<std::thread> posters;
  for (int i = 0; i < 3; ++i) ctx.Post([&log, i] { log.push_back(ThreadName() + ":" + std::to_string(i)); });
  OnThread("worker", [&] {
    ctx.Post([&log] { log.push_back(ThreadName() + ":from-worker"); });
  });
  ctx.Post([&ctx] { ctx.Complete(); });
  ctx.RunOnCurrentThread();
  EXPECT_EQ(log, (std::vector<std::string>{"ui:0", "ui:1", "ui:2", "ui:from-worker"}));
  EXPECT_EQ(ctx.PostedCount(), 5u);
  EXPECT_EQ(ctx.RunCount(), 5u);
}

TEST(SingleThreadSynchronizationContextTest, CompleteLetsTheQueueDrainFirst) {
  SingleThreadSynchronizationContext ctx;
  int ran = 0;
  ctx.Complete();
  ctx.Post([&] { ++ran; });
  ctx.Post([&] { ++ran; });
  ctx.RunOnCurrentThread();
  EXPECT_EQ(ran, 2);
}

Task<std::string> ThreadAfterAwait(Task<int> t, std::string* before) {
  *before = ThreadName();
  co_await t;
  co_return ThreadName();
}

TEST(SynchronizationContextTest, ContinuationIsPostedToTheCapturedContext) {
  SetThreadName("ui");
  SingleThreadSynchronizationContext ctx;
  TaskCompletionSource<int> tcs;
  std::string before;
  Task<std::string> t = [&] {
    SynchronizationContextScope scope(&ctx);
    return ThreadAfterAwait(tcs.Task(), &before);
  }();
  std::thread worker([&] {
    SetThreadName("worker");
    tcs.SetResult(1);
  });
  ASSERT_TRUE(PumpUntil(ctx, t)) << "lost continuation";
  worker.join();
  EXPECT_EQ(before, "ui");
  EXPECT_EQ(t.GetResult(), "ui") << "the continuation must come back to the captured context";
  EXPECT_EQ(ctx.PostedCount(), 1u);
}

TEST(SynchronizationContextTest, CompletingOnTheCapturedContextRunsTheContinuationInline) {
  SetThreadName("ui");
  SingleThreadSynchronizationContext ctx;
  TaskCompletionSource<int> tcs;
  std::string before;
  Task<std::string> t = [&] {
    SynchronizationContextScope scope(&ctx);
    return ThreadAfterAwait(tcs.Task(), &before);
  }();
  bool done_inside_set_result = false;
  ctx.Post([&] {
    tcs.SetResult(1);  // on "ui", in ctx: C# runs the continuation inline
    done_inside_set_result = t.IsCompleted();
  });
  ASSERT_TRUE(PumpUntil(ctx, t)) << "lost continuation";
  EXPECT_TRUE(done_inside_set_result);
  EXPECT_EQ(t.GetResult(), "ui");
  EXPECT_EQ(ctx.PostedCount(), 1u) << "only our own Post; the continuation was not posted";
}

TEST(SynchronizationContextTest, AsynchronousCompletionPostsEvenOnTheCapturedContext) {
  SetThreadName("ui");
  SingleThreadSynchronizationContext ctx;
  TaskCompletionSource<int> tcs(TaskCreationOptions::RunContinuationsAsynchronously);
  std::string before;
  Task<std::string> t = [&] {
    SynchronizationContextScope scope(&ctx);
    return ThreadAfterAwait(tcs.Task(), &before);
  }();
  bool done_inside_set_result = true;
  ctx.Post([&] {
    tcs.SetResult(1);
    done_inside_set_result = t.IsCompleted();
  });
  ASSERT_TRUE(PumpUntil(ctx, t)) << "lost continuation";
  EXPECT_FALSE(done_inside_set_result);
  EXPECT_EQ(t.GetResult(), "ui");
  EXPECT_EQ(ctx.PostedCount(), 2u) << "our Post and the continuation's";
}

TEST(SynchronizationContextTest, TheBaseContextIsNotCaptured) {
  SynchronizationContext base;
  TaskCompletionSource<int> tcs;
  std::string before;
  Task<std::string> t = [&] {
    SynchronizationContextScope scope(&base);
    return ThreadAfterAwait(tcs.Task(), &before);
  }();
  OnThread("worker", [&] { tcs.SetResult(1); });
  ASSERT_TRUE(t.Wait(kDeadline)) << "lost continuation";
  EXPECT_EQ(t.GetResult(), "worker") << "C# does not capture a base SynchronizationContext";
}

TEST(SynchronizationContextTest, TheBaseContextPostsToThePool) {
  SynchronizationContext base;
  TaskCompletionSource<std::string> where;
  base.Post([&] { where.SetResult(ThreadName()); });
  ASSERT_TRUE(where.Task().Wait(kDeadline)) << "lost work item";
  EXPECT_EQ(where.Task().GetResult(), "pool");
}

TEST(ThreadPoolDeathTest, AnExceptionEscapingAWorkItemEndsTheProcess) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        ThreadPool::QueueUserWorkItem([] { throw std::runtime_error("escaped"); });
        std::this_thread::sleep_for(kDeadline);  // the pool thread ends the process first
      },
      "unhandled exception in a work item: escaped");
}

TEST(AsyncPumpTest, RunReturnsTheResultAndAllContinuationsRunOnTheCaller) {
  SetThreadName("ui");
  std::vector<std::string> threads;  // touched only on "ui"
  TaskCompletionSource<int> a, b;
  std::thread worker([&] {
    SetThreadName("worker");
    a.SetResult(1);
    b.SetResult(2);
  });
  int r = AsyncPump::Run([&]() -> Task<int> {
    threads.push_back(ThreadName());
    int x = co_await a.Task();
    threads.push_back(ThreadName());
    int y = co_await b.Task();
    threads.push_back(ThreadName());
    co_return x + y;
  });
  worker.join();
  EXPECT_EQ(r, 3);
  EXPECT_EQ(threads, (std::vector<std::string>{"ui", "ui", "ui"}));
  EXPECT_EQ(SynchronizationContext::Current(), nullptr) << "Run must restore the previous context";
}

TEST(AsyncPumpTest, RunRethrowsTheMethodsException) {
  EXPECT_THROW(AsyncPump::Run([]() -> Task<int> {
                 throw std::runtime_error("boom");
                 co_return 0;
               }),
               std::runtime_error);
}

}  // namespace
}  // namespace pollwake::csharp
