// tests/future/timer_test.cc: TimerFuture (one helper thread each) and the
// Timer service. No assertion depends on how long anything took: the tests
// only check what happened (woken or not, Ready or not, in which order), and
// every wait is bounded.
#include "poll/timer.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "poll/waker_fn.h"
#include "tests/future/test_util.h"

namespace pollwake {
namespace {

using namespace std::chrono_literals;
using testing::wait_output;
using testing::CountingWaker;
using testing::kDeadline;
using testing::poll_once;

// Runs `f` on a helper thread and FAILs the test (ending the process, since
// the helper may still use this stack frame) if it does not finish in time.
template <class F>
void finishes_within_limit(F f, const char* what) {
  std::packaged_task<void()> task(std::move(f));
  auto done = task.get_future();
  std::thread t(std::move(task));
  if (done.wait_for(kDeadline) != std::future_status::ready) {
    std::fprintf(stderr, "FAILED: %s did not finish (hang)\n", what);
    std::_Exit(1);
  }
  t.join();
}

TEST(TimerFutureTest, CompletesAndWakesTheTask) {
  TimerFuture t(10ms);
  auto out = wait_output(t);
  ASSERT_TRUE(out.has_value()) << "the timer never woke its task";
  EXPECT_THROW((void)poll_once(t, Waker::noop()), FuturePolledAfterCompletion);
}

TEST(TimerFutureTest, PendingFirstThenOneWake) {
  CountingWaker cw;
  {
    TimerFuture t(20ms);
    EXPECT_TRUE(poll_once(t, cw.waker()).is_pending());
    // Wait (bounded) until the helper thread has woken us.
    for (int i = 0; i < 2000 && cw.wakes() == 0; ++i) std::this_thread::sleep_for(10ms);
    ASSERT_EQ(cw.wakes(), 1);
    EXPECT_TRUE(poll_once(t, cw.waker()).is_ready());
  }
  EXPECT_EQ(cw.live(), 0);
}

TEST(TimerFutureTest, DeadlineIsFixedAtConstructionAndPastDeadlineIsReadyAtOnce) {
  CountingWaker cw;
  TimerFuture t(1ms);
  std::this_thread::sleep_for(5ms);  // the deadline passes before any poll
  EXPECT_TRUE(poll_once(t, cw.waker()).is_ready());
  EXPECT_EQ(cw.clones(), 0);  // no thread, no stored waker
}

TEST(TimerFutureTest, UnpolledTimerDoesNothing) {
  CountingWaker cw;
  { TimerFuture t(1ms); }
  EXPECT_EQ(cw.clones(), 0);
}

TEST(TimerFutureTest, DroppingBeforeItFiresIsSafeAndPrompt) {
  CountingWaker cw;
  finishes_within_limit(
      [&cw] {
        for (int i = 0; i < 50; ++i) {
          TimerFuture t(1h);  // would never fire during the test
          EXPECT_TRUE(poll_once(t, cw.waker()).is_pending());
        }  // the destructor cancels the thread's wait and joins it
      },
      "dropping pending TimerFutures");
  EXPECT_EQ(cw.woken(), 0);
  EXPECT_EQ(cw.live(), 0);
}

TEST(TimerFutureTest, DroppingWhileItFiresNeverTouchesFreedState) {
  // Races the destructor against the thread's completion; ASan / TSan
  // report any use of freed state.
  CountingWaker cw;
  for (int i = 0; i < 200; ++i) {
    TimerFuture t(std::chrono::microseconds(i % 50));
    (void)poll_once(t, cw.waker());
  }
  EXPECT_EQ(cw.live(), 0);
}

TEST(TimerFutureTest, OnlyTheLatestWakerIsWoken) {
  CountingWaker first, second;
  TimerFuture t(20ms);
  EXPECT_TRUE(poll_once(t, first.waker()).is_pending());
  if (poll_once(t, second.waker()).is_ready()) GTEST_SKIP() << "fired between polls";
  for (int i = 0; i < 2000 && second.wakes() == 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(second.wakes(), 1);
  EXPECT_EQ(first.woken(), 0);
  EXPECT_EQ(first.live(), 0);
}

TEST(TimerFutureTest, DroppedByItsOwnWakeOnTheHelperThread) {
  // The waker destroys the future from inside the helper thread's wake; the
  // destructor must detach rather than join itself.
  std::atomic<TimerFuture*> victim{nullptr};
  std::atomic<int> wakes{0};
  std::atomic<bool> dropped{false};
  Waker w = waker_fn([&victim, &wakes, &dropped] {
    ++wakes;
    if (TimerFuture* t = victim.exchange(nullptr)) {
      delete t;
      dropped = true;
    }
  });
  auto* t = new TimerFuture(50ms);
  EXPECT_TRUE(poll_once(*t, w).is_pending());
  victim = t;  // from here on the wake may delete it
  for (int i = 0; i < 2000 && !dropped; ++i) std::this_thread::sleep_for(10ms);
  if (TimerFuture* late = victim.exchange(nullptr)) {
    // The wake came before `victim` was set (a stalled machine), or never.
    ASSERT_GT(wakes, 0) << "the wake never came";
    delete late;
    GTEST_SKIP() << "the timer fired before the test could arm the waker";
  }
  EXPECT_TRUE(dropped);
}

TEST(TimerTest, SleepsFireInDeadlineOrder) {
  Timer timer;
  std::mutex mu;
  std::vector<int> order;
  auto recorder = [&](int id) {
    return waker_fn([&mu, &order, id] {
      std::lock_guard lock(mu);
      order.push_back(id);
    });
  };
  const auto base = TimerClock::now() + 300ms;
  Sleep s0 = timer.sleep_until(base + 30ms);
  Sleep s1 = timer.sleep_until(base + 10ms);
  Sleep s2 = timer.sleep_until(base + 20ms);
  Waker w0 = recorder(0), w1 = recorder(1), w2 = recorder(2);
  if (poll_once(s0, w0).is_ready() || poll_once(s1, w1).is_ready() ||
      poll_once(s2, w2).is_ready()) {
    GTEST_SKIP() << "the machine stalled past every deadline before the first poll";
  }
  for (int i = 0; i < 2000; ++i) {
    {
      std::lock_guard lock(mu);
      if (order.size() == 3) break;
    }
    std::this_thread::sleep_for(10ms);
  }
  std::lock_guard lock(mu);
  ASSERT_EQ(order, (std::vector<int>{1, 2, 0}));
  EXPECT_TRUE(poll_once(s0, Waker::noop()).is_ready());
  EXPECT_TRUE(poll_once(s1, Waker::noop()).is_ready());
  EXPECT_TRUE(poll_once(s2, Waker::noop()).is_ready());
  EXPECT_THROW((void)poll_once(s2, Waker::noop()), FuturePolledAfterCompletion);
}

TEST(TimerTest, ManySleepsOnOneThread) {
  Timer timer;
  std::vector<Sleep> sleeps;
  for (int i = 0; i < 100; ++i) sleeps.push_back(timer.sleep(std::chrono::microseconds(100 * i)));
  for (auto& s : sleeps) {
    ASSERT_TRUE(wait_output(s).has_value()) << "lost wakeup";
  }
}

TEST(TimerTest, DroppedSleepIsNeverWoken) {
  CountingWaker cw;
  Timer timer;
  {
    Sleep s = timer.sleep(5ms);
    EXPECT_TRUE(poll_once(s, cw.waker()).is_pending());
  }
  EXPECT_EQ(cw.live(), 0);  // forgotten at once
  Sleep later = timer.sleep(20ms);
  ASSERT_TRUE(wait_output(later).has_value());  // its deadline passed too
  EXPECT_EQ(cw.woken(), 0);
}

TEST(TimerTest, DroppingTheTimerWakesPendingSleepsWhichThenThrow) {
  CountingWaker cw;
  std::optional<Sleep> s;
  finishes_within_limit(
      [&] {
        Timer timer;
        s.emplace(timer.sleep(1h));
        EXPECT_TRUE(poll_once(*s, cw.waker()).is_pending());
      },
      "dropping a Timer with a pending Sleep");
  EXPECT_EQ(cw.wakes(), 1);
  EXPECT_THROW((void)poll_once(*s, cw.waker()), TimerShutDown);
  s.reset();
  EXPECT_EQ(cw.live(), 0);
}

TEST(TimerTest, PastDeadlineIsReadyWithoutRegistering) {
  CountingWaker cw;
  Timer timer;
  Sleep s = timer.sleep_until(TimerClock::now() - 1ms);
  EXPECT_TRUE(poll_once(s, cw.waker()).is_ready());
  EXPECT_EQ(cw.clones(), 0);
}

}  // namespace

// Regression: the timer thread waited on a reference into its heap's
// storage (heap.top().deadline); a sleep registered while it waited could
// reallocate that storage, and wait_until read the freed deadline on waking
// (a heap-use-after-free that ASan reported, found by the C ABI bridge's
// fuzzer). Here the thread waits on a far deadline while many sleeps are
// registered (the storage grows several times), and the last one is the
// earliest, so the thread wakes from that wait. Under --config=asan the old
// code fails this test; everywhere it must fire every sleep.
TEST(TimerTest, RegisteringSleepsWhileTheThreadWaitsIsSafe) {
  Timer timer;
  std::vector<Sleep> sleeps;
  sleeps.push_back(timer.sleep(1h));
  EXPECT_TRUE(poll_once(sleeps.back(), Waker::noop()).is_pending());
  std::this_thread::sleep_for(2ms);  // the thread is now in wait_until(1 h)
  for (int i = 0; i < 300; ++i) {
    sleeps.push_back(timer.sleep(std::chrono::minutes(30) + std::chrono::seconds(i)));
    EXPECT_TRUE(poll_once(sleeps.back(), Waker::noop()).is_pending());
  }
  Sleep soon = timer.sleep(1ms);
  ASSERT_TRUE(wait_output(soon).has_value()) << "lost wakeup";
}

}  // namespace pollwake
