// tests/interop/when_test.cc: csharp::WhenAll and csharp::WhenAny.
#include "interop/csharp/when.h"

#include <exception>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "interop/csharp/aggregate_exception.h"
#include "interop/csharp/cancellation.h"
#include "interop/csharp/task.h"
#include "interop/csharp/task_completion_source.h"
#include "tests/interop/pump_util.h"

namespace pollwake::csharp {
namespace {

using testing::kDeadline;

TEST(WhenAllTest, ValuesInArgumentOrderWhateverTheCompletionOrder) {
  TaskCompletionSource<std::string> a, b, c;
  Task<std::vector<std::string>> all = WhenAll(a.Task(), b.Task(), c.Task());
  b.SetResult("B");
  c.SetResult("C");
  EXPECT_FALSE(all.IsCompleted());
  a.SetResult("A");
  ASSERT_TRUE(all.IsCompleted()) << "WhenAll must complete inline with the last task";
  EXPECT_EQ(all.GetResult(), (std::vector<std::string>{"A", "B", "C"}));
}

TEST(WhenAllTest, WaitsForAllAfterAFaultThenAggregatesInArgumentOrder) {
  TaskCompletionSource<int> a, b, c;
  Task<std::vector<int>> all = WhenAll(std::vector<Task<int>>{a.Task(), b.Task(), c.Task()});
  c.SetException(std::make_exception_ptr(std::runtime_error("C failed")));
  EXPECT_FALSE(all.IsCompleted()) << "WhenAll completed at the first fault";
  a.SetException(std::make_exception_ptr(std::runtime_error("A failed")));
  b.SetResult(2);
  ASSERT_TRUE(all.IsFaulted());
  try {
    all.GetResult();
    FAIL() << "did not throw";
  } catch (const AggregateException& e) {
    ASSERT_EQ(e.InnerExceptions().size(), 2u);
    EXPECT_EQ(MessageOf(e.InnerExceptions()[0]), "A failed");
    EXPECT_EQ(MessageOf(e.InnerExceptions()[1]), "C failed");
  }
}

TEST(WhenAllTest, OnlyCanceledMeansCanceled) {
  TaskCompletionSource<> a, b;
  Task<> all = WhenAll(a.Task(), b.Task());
  SetCanceled(a);
  b.SetResult();
  EXPECT_TRUE(IsCanceled(all));
}

TEST(WhenAllTest, AFaultWinsOverACancellation) {
  TaskCompletionSource<> a, b;
  Task<> all = WhenAll(a.Task(), b.Task());
  SetCanceled(a);
  b.SetException(std::make_exception_ptr(std::runtime_error("b")));
  EXPECT_FALSE(IsCanceled(all));
  EXPECT_THROW(all.GetResult(), AggregateException);
}

TEST(WhenAllTest, EmptyIsCompleteAtOnce) {
  Task<std::vector<int>> all = WhenAll(std::vector<Task<int>>{});
  ASSERT_TRUE(all.IsCompleted());
  EXPECT_TRUE(all.GetResult().empty());
}

TEST(WhenAllTest, CompletedInputsCompleteAtOnce) {
  Task<std::vector<int>> all = WhenAll(Task<int>::FromResult(1), Task<int>::FromResult(2));
  ASSERT_TRUE(all.IsCompleted());
  EXPECT_EQ(all.GetResult(), (std::vector<int>{1, 2}));
}

TEST(WhenAllTest, CompletionsFromManyThreadsCountEveryTask) {
  // Bounded: 50 rounds of 4 completing threads; a lost count would leave the
  // WhenAll pending, which Wait(kDeadline) reports instead of hanging.
  for (int round = 0; round < 50; ++round) {
    std::vector<TaskCompletionSource<int>> sources(4);
    std::vector<Task<int>> tasks;
    for (auto& s : sources) tasks.push_back(s.Task());
    Task<std::vector<int>> all = WhenAll(tasks);
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) threads.emplace_back([&sources, i] { sources[i].SetResult(i); });
    for (auto& t : threads) t.join();
    ASSERT_TRUE(all.Wait(kDeadline)) << "lost completion in round " << round;
    ASSERT_EQ(all.GetResult(), (std::vector<int>{0, 1, 2, 3}));
  }
}

TEST(WhenAnyTest, CompletesWithTheFirstToComplete) {
  TaskCompletionSource<int> a, b;
  Task<Task<int>> any = WhenAny(a.Task(), b.Task());
  EXPECT_FALSE(any.IsCompleted());
  b.SetResult(2);
  ASSERT_TRUE(any.IsCompleted());
  a.SetResult(1);
  EXPECT_EQ(any.GetResult().GetResult(), 2);
}

TEST(WhenAnyTest, DoesNotFaultWhenTheWinnerFaulted) {
  TaskCompletionSource<int> a, b;
  Task<Task<int>> any = WhenAny(a.Task(), b.Task());
  a.SetException(std::make_exception_ptr(std::runtime_error("a")));
  ASSERT_TRUE(any.IsCompletedSuccessfully());
  Task<int> winner = any.GetResult();
  EXPECT_TRUE(winner.IsFaulted());
  EXPECT_THROW(winner.GetResult(), std::runtime_error);
}

TEST(WhenAnyTest, NoTasksThrowsInvalidArgument) {
  EXPECT_THROW(WhenAny(std::vector<Task<int>>{}), std::invalid_argument);
}

}  // namespace
}  // namespace pollwake::csharp
