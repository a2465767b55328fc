// tests/interop/cancellation_test.cc: csharp::CancellationTokenSource,
// CancellationToken, registrations, OperationCanceledException, and a task
// canceled through its TaskCompletionSource.
#include "interop/csharp/cancellation.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "interop/csharp/aggregate_exception.h"
#include "interop/csharp/task.h"
#include "interop/csharp/task_completion_source.h"
#include "tests/interop/pump_util.h"

namespace pollwake::csharp {
namespace {

using testing::kDeadline;

TEST(CancellationTokenTest, NoneCannotBeCanceledAndNeverRunsCallbacks) {
  CancellationToken none = CancellationToken::None();
  EXPECT_FALSE(none.CanBeCanceled());
  EXPECT_FALSE(none.IsCancellationRequested());
  bool ran = false;
  CancellationTokenRegistration r = none.Register([&] { ran = true; });
  r.Dispose();
  EXPECT_FALSE(ran);
  EXPECT_NO_THROW(none.ThrowIfCancellationRequested());
}

TEST(CancellationTokenSourceTest, CancelSetsTheFlagSeenByEveryToken) {
  CancellationTokenSource cts;
  CancellationToken a = cts.Token();
  CancellationToken b = cts.Token();
  EXPECT_TRUE(a.CanBeCanceled());
  EXPECT_TRUE(a == b);
  EXPECT_FALSE(a.IsCancellationRequested());
  cts.Cancel();
  EXPECT_TRUE(cts.IsCancellationRequested());
  EXPECT_TRUE(a.IsCancellationRequested());
  EXPECT_TRUE(b.IsCancellationRequested());
}

TEST(CancellationTokenSourceTest, CallbacksRunInlineNewestFirstBeforeCancelReturns) {
  CancellationTokenSource cts;
  std::vector<int> order;
  cts.Token().Register([&] { order.push_back(1); });
  cts.Token().Register([&] { order.push_back(2); });
  cts.Token().Register([&] { order.push_back(3); });
  cts.Cancel();
  EXPECT_EQ(order, (std::vector<int>{3, 2, 1}));
  cts.Cancel();  // a second Cancel runs nothing again
  EXPECT_EQ(order.size(), 3u);
}

TEST(CancellationTokenTest, RegisterAfterCancelRunsAtOnce) {
  CancellationTokenSource cts;
  cts.Cancel();
  bool ran = false;
  cts.Token().Register([&] { ran = true; });
  EXPECT_TRUE(ran) << "Register on a canceled token must run the callback before returning";
}

TEST(CancellationTokenRegistrationTest, DisposeBeforeCancelRemovesTheCallback) {
  CancellationTokenSource cts;
  int ran = 0;
  CancellationTokenRegistration r = cts.Token().Register([&] { ++ran; });
  cts.Token().Register([&] { ran += 10; });
  r.Dispose();
  r.Dispose();  // idempotent
  cts.Cancel();
  EXPECT_EQ(ran, 10);
}

TEST(CancellationTokenRegistrationTest, DisposeInsideItsOwnCallbackDoesNotDeadlock) {
  CancellationTokenSource cts;
  CancellationTokenRegistration r;
  bool ran = false;
  r = cts.Token().Register([&] {
    r.Dispose();  // on the canceling thread: returns at once
    ran = true;
  });
  cts.Cancel();
  EXPECT_TRUE(ran);
}

TEST(CancellationTokenRegistrationTest, DisposeWaitsForACallbackRunningOnAnotherThread) {
  CancellationTokenSource cts;
  std::mutex mu;
  std::condition_variable cv;
  bool in_callback = false;  // written under mu
  bool release = false;      // written under mu
  std::atomic<bool> callback_returned{false};
  CancellationTokenRegistration r = cts.Token().Register([&] {
    std::unique_lock<std::mutex> lock(mu);
    in_callback = true;
    cv.notify_all();
    cv.wait_for(lock, kDeadline, [&] { return release; });
    callback_returned.store(true);
  });
  std::thread canceler([&] { cts.Cancel(); });
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, kDeadline, [&] { return in_callback; })) << "the callback never started";
  }
  std::thread releaser([&] {
    // Lets the callback finish a little later; Dispose must not return first.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::lock_guard<std::mutex> lock(mu);
    release = true;
    cv.notify_all();
  });
  r.Dispose();
  EXPECT_TRUE(callback_returned.load()) << "Dispose returned while the callback was still running";
  releaser.join();
  canceler.join();
}

TEST(CancellationTokenSourceTest, ThrowingCallbacksAreAggregatedAfterAllRan) {
  CancellationTokenSource cts;
  std::vector<int> order;
  cts.Token().Register([&] { order.push_back(1); throw std::runtime_error("one"); });
  cts.Token().Register([&] { order.push_back(2); });
  cts.Token().Register([&] { order.push_back(3); throw std::runtime_error("three"); });
  try {
    cts.Cancel();
    FAIL() << "Cancel did not throw";
  } catch (const AggregateException& e) {
    ASSERT_EQ(e.InnerExceptions().size(), 2u);
    EXPECT_EQ(MessageOf(e.InnerExceptions()[0]), "three");
    EXPECT_EQ(MessageOf(e.InnerExceptions()[1]), "one");
  }
  EXPECT_EQ(order, (std::vector<int>{3, 2, 1}));
}

TEST(CancellationTokenSourceTest, ThrowOnFirstExceptionStopsAtTheFirst) {
  CancellationTokenSource cts;
  std::vector<int> order;
  cts.Token().Register([&] { order.push_back(1); });
  cts.Token().Register([&] { order.push_back(2); throw std::runtime_error("two"); });
  EXPECT_THROW(cts.Cancel(true), std::runtime_error);
  EXPECT_EQ(order, (std::vector<int>{2}));
  EXPECT_TRUE(cts.IsCancellationRequested());
}

TEST(CancellationTokenTest, ThrowIfCancellationRequestedCarriesTheToken) {
  CancellationTokenSource cts;
  EXPECT_NO_THROW(cts.Token().ThrowIfCancellationRequested());
  cts.Cancel();
  try {
    cts.Token().ThrowIfCancellationRequested();
    FAIL() << "did not throw";
  } catch (const OperationCanceledException& e) {
    EXPECT_TRUE(e.CancellationToken() == cts.Token());
    EXPECT_STREQ(e.what(), "The operation was canceled.");
  }
}

Task<int> WaitOrCancel(Task<int> ev, CancellationToken token, std::vector<std::string>* log) {
  TaskCompletionSource<int> gate;
  CancellationTokenRegistration reg = token.Register([gate]() mutable { TrySetCanceled(gate); });
  ev.OnCompleted([gate, ev]() mutable { (void)gate.TrySetResult(ev.GetResult()); }, false);
  try {
    int v = co_await gate.Task();
    log->push_back("after await");
    reg.Dispose();
    co_return v;
  } catch (const OperationCanceledException&) {
    log->push_back("caught");
    reg.Dispose();
    throw;
  }
}

TEST(CancellationTokenSourceTest, CancelResumesAnAwaitingTaskInlineAsCanceled) {
  CancellationTokenSource cts;
  TaskCompletionSource<int> never;
  std::vector<std::string> log;
  Task<int> t = WaitOrCancel(never.Task(), cts.Token(), &log);
  EXPECT_FALSE(t.IsCompleted());
  cts.Cancel();
  // Inline: by the time Cancel returns, the body has caught and rethrown.
  EXPECT_EQ(log, (std::vector<std::string>{"caught"}));
  ASSERT_TRUE(t.IsCompleted());
  EXPECT_TRUE(IsCanceled(t));
  EXPECT_THROW(t.GetResult(), OperationCanceledException);
  never.SetResult(1);  // too late: nothing changes
  EXPECT_TRUE(IsCanceled(t));
}

TEST(CancellationTokenSourceTest, SetCanceledTwiceThrowsInvalidOperation) {
  TaskCompletionSource<> tcs;
  SetCanceled(tcs);
  EXPECT_THROW(SetCanceled(tcs), InvalidOperationException);
  EXPECT_FALSE(TrySetCanceled(tcs));
  EXPECT_TRUE(IsCanceled(tcs.Task()));
}

TEST(CancellationTokenTest, IsCanceledIsFalseForOtherFaultsAndSuccess) {
  TaskCompletionSource<int> faulted;
  faulted.SetException(std::make_exception_ptr(std::runtime_error("x")));
  EXPECT_FALSE(IsCanceled(faulted.Task()));
  EXPECT_FALSE(IsCanceled(Task<int>::FromResult(1)));
  TaskCompletionSource<int> pending;
  EXPECT_FALSE(IsCanceled(pending.Task()));
}

TEST(CancellationTokenSourceTest, ConcurrentRegisterAndCancelRunEachCallbackOnce) {
  // Registrations racing with Cancel: each callback runs exactly once, either
  // inside Cancel or inside Register. Bounded: 200 rounds of 2 threads.
  for (int round = 0; round < 200; ++round) {
    CancellationTokenSource cts;
    std::atomic<int> runs{0};
    std::thread registrar([&] {
      for (int i = 0; i < 20; ++i) cts.Token().Register([&] { runs.fetch_add(1); });
    });
    cts.Cancel();
    registrar.join();
    ASSERT_EQ(runs.load(), 20) << "round " << round;
  }
}

}  // namespace
}  // namespace pollwake::csharp
