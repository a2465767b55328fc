// tests/interop/configure_await_test.cc: Task::ConfigureAwait.
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "interop/csharp/synchronization_context.h"
#include "interop/csharp/task.h"
#include "interop/csharp/task_completion_source.h"
#include "interop/csharp/thread_name.h"
#include "tests/interop/pump_util.h"

namespace pollwake::csharp {
namespace {

using testing::kDeadline;
using testing::PumpUntil;

struct Threads {
  std::string before, after_first, after_second;
};

// Awaits `first` with ConfigureAwait(capture), then `second` plainly.
Task<> TwoAwaits(Task<int> first, Task<int> second, bool capture, Threads* out) {
  out->before = ThreadName();
  co_await first.ConfigureAwait(capture);
  out->after_first = ThreadName();
  co_await second;
  out->after_second = ThreadName();
}

// Runs TwoAwaits on a "ui" loop; a "worker" completes both sources.
Threads RunOnUi(bool capture, TaskCreationOptions options, std::size_t* posted) {
  SetThreadName("ui");
  SingleThreadSynchronizationContext ctx;
  TaskCompletionSource<int> first(options), second(options);
  Threads threads;
  Task<> t = [&] {
    SynchronizationContextScope scope(&ctx);
    return TwoAwaits(first.Task(), second.Task(), capture, &threads);
  }();
  std::thread worker([&] {
    SetThreadName("worker");
    first.SetResult(1);
    second.SetResult(2);
  });
  const bool ok = PumpUntil(ctx, t);
  worker.join();
  EXPECT_TRUE(ok) << "lost continuation";
  if (ok) {
    EXPECT_TRUE(t.Wait(kDeadline));
  }
  *posted = ctx.PostedCount();
  return threads;
}

TEST(ConfigureAwaitTest, TrueIsTheDefaultAndComesBackToTheContext) {
  std::size_t posted = 0;
  Threads th = RunOnUi(true, TaskCreationOptions::None, &posted);
  EXPECT_EQ(th.before, "ui");
  EXPECT_EQ(th.after_first, "ui");
  EXPECT_EQ(th.after_second, "ui");
  EXPECT_GE(posted, 1u);
}

TEST(ConfigureAwaitTest, FalseContinuesOnTheCompletingThreadAndLeavesTheContextBehind) {
  std::size_t posted = 0;
  Threads th = RunOnUi(false, TaskCreationOptions::None, &posted);
  EXPECT_EQ(th.before, "ui");
  EXPECT_EQ(th.after_first, "worker") << "ConfigureAwait(false) must skip the captured context";
  // The worker has no context, so the next plain await captures nothing.
  EXPECT_EQ(th.after_second, "worker");
  EXPECT_EQ(posted, 0u);
}

TEST(ConfigureAwaitTest, FalseWithAsynchronousCompletionContinuesOnThePool) {
  std::size_t posted = 0;
  Threads th = RunOnUi(false, TaskCreationOptions::RunContinuationsAsynchronously, &posted);
  EXPECT_EQ(th.after_first, "pool");
  EXPECT_EQ(th.after_second, "pool");
  EXPECT_EQ(posted, 0u);
}

TEST(ConfigureAwaitTest, FalseOnACompletedTaskDoesNotLeaveTheThread) {
  SetThreadName("ui");
  SingleThreadSynchronizationContext ctx;
  Threads threads;
  Task<> t = [&] {
    SynchronizationContextScope scope(&ctx);
    return TwoAwaits(Task<int>::FromResult(1), Task<int>::FromResult(2), false, &threads);
  }();
  EXPECT_TRUE(t.IsCompleted());
  EXPECT_EQ(threads.after_first, "ui");
  EXPECT_EQ(threads.after_second, "ui");
  EXPECT_EQ(ctx.PostedCount(), 0u);
}

}  // namespace
}  // namespace pollwake::csharp
