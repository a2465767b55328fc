// tests/interop/task_completion_source_test.cc: csharp::TaskCompletionSource.
#include "interop/csharp/task_completion_source.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "interop/csharp/task.h"
#include "interop/csharp/thread_name.h"
#include "tests/interop/pump_util.h"

namespace pollwake::csharp {
namespace {

using testing::kDeadline;
using testing::OnThread;

Task<int> Resume(Task<int> t, std::string* thread_after, std::atomic<int>* resumed) {
  int v = co_await t;
  *thread_after = ThreadName();
  resumed->fetch_add(1);
  co_return v;
}

TEST(TaskCompletionSourceTest, SetResultTwiceThrowsInvalidOperation) {
  TaskCompletionSource<int> tcs;
  tcs.SetResult(1);
  EXPECT_THROW(tcs.SetResult(2), InvalidOperationException);
  EXPECT_THROW(tcs.SetException(std::make_exception_ptr(std::runtime_error("x"))),
               InvalidOperationException);
  EXPECT_FALSE(tcs.TrySetResult(3));
  EXPECT_EQ(tcs.Task().GetResult(), 1) << "the first result must stay";
}

TEST(TaskCompletionSourceTest, SetResultRunsContinuationsInlineBeforeReturning) {
  SetThreadName("main");
  TaskCompletionSource<int> tcs;
  std::string after;
  std::atomic<int> resumed{0};
  Task<int> t = Resume(tcs.Task(), &after, &resumed);
  OnThread("setter", [&] {
    tcs.SetResult(5);
    EXPECT_EQ(resumed.load(), 1) << "the continuation had not run when SetResult returned";
  });
  EXPECT_EQ(after, "setter");
  EXPECT_EQ(t.GetResult(), 5);
}

TEST(TaskCompletionSourceTest, RunContinuationsAsynchronouslyRunsThemOnThePool) {
  TaskCompletionSource<int> tcs(TaskCreationOptions::RunContinuationsAsynchronously);
  // The continuation waits for SetResult to return, which would deadlock if
  // it ran inline: proof that it did not.
  std::mutex mu;
  std::condition_variable cv;
  bool set_returned = false;  // written under mu
  bool waited_ok = false;
  std::string after;
  auto body = [&](Task<int> t) -> Task<int> {
    int v = co_await t;
    after = ThreadName();
    std::unique_lock<std::mutex> lock(mu);
    waited_ok = cv.wait_for(lock, kDeadline, [&] { return set_returned; });
    co_return v;
  };
  Task<int> t = body(tcs.Task());
  OnThread("setter", [&] {
    tcs.SetResult(8);
    std::lock_guard<std::mutex> lock(mu);
    set_returned = true;
    cv.notify_all();
  });
  ASSERT_TRUE(t.Wait(kDeadline)) << "lost continuation";
  EXPECT_TRUE(waited_ok) << "the continuation ran inline inside SetResult";
  EXPECT_EQ(after, "pool");
  EXPECT_EQ(t.GetResult(), 8);
}

TEST(TaskCompletionSourceTest, SetExceptionFaultsTheTaskAndAwaitRethrows) {
  TaskCompletionSource<int> tcs;
  std::string after;
  std::atomic<int> resumed{0};
  Task<int> t = Resume(tcs.Task(), &after, &resumed);
  tcs.SetException(std::make_exception_ptr(std::out_of_range("nope")));
  EXPECT_TRUE(tcs.Task().IsFaulted());
  EXPECT_TRUE(t.IsFaulted());
  EXPECT_EQ(resumed.load(), 0);
  EXPECT_THROW((void)t.GetResult(), std::out_of_range);
}

// C#'s SetException(null) throws ArgumentNullException and leaves the task
// as it was; it must not complete the task as successful with no value.
TEST(TaskCompletionSourceTest, SetExceptionWithANullPointerThrowsAndLeavesTheTaskIncomplete) {
  TaskCompletionSource<int> tcs;
  EXPECT_THROW(tcs.SetException(nullptr), ArgumentNullException);
  EXPECT_THROW((void)tcs.TrySetException(std::exception_ptr()), ArgumentNullException);
  EXPECT_FALSE(tcs.Task().IsCompleted());
  tcs.SetResult(2);  // still completable
  EXPECT_EQ(tcs.Task().GetResult(), 2);
}

TEST(TaskCompletionSourceTest, VoidSourceCompletesWithSetResult) {
  TaskCompletionSource<> tcs;
  int after = 0;
  auto body = [](Task<> t, int* after) -> Task<> {
    co_await t;
    ++*after;
  };
  Task<> t = body(tcs.Task(), &after);
  EXPECT_EQ(after, 0);
  tcs.SetResult();
  EXPECT_EQ(after, 1);
  EXPECT_TRUE(t.IsCompletedSuccessfully());
  EXPECT_FALSE(tcs.TrySetResult());
}

TEST(TaskCompletionSourceTest, ConcurrentTrySetResultHasExactlyOneWinner) {
  constexpr int kRounds = 200;
  constexpr int kThreads = 4;
  for (int round = 0; round < kRounds; ++round) {
    TaskCompletionSource<int> tcs;
    std::atomic<int> winners{0};
    std::atomic<int> resumed{0};
    std::string after;
    Task<int> t = Resume(tcs.Task(), &after, &resumed);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        if (tcs.TrySetResult(i)) winners.fetch_add(1);
      });
    }
    for (auto& th : threads) th.join();
    ASSERT_EQ(winners.load(), 1) << "round " << round;
    ASSERT_TRUE(t.Wait(kDeadline)) << "lost continuation in round " << round;
    ASSERT_EQ(resumed.load(), 1) << "round " << round;
  }
}

}  // namespace
}  // namespace pollwake::csharp
