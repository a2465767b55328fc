// tests/hostloop/uv_host_test.cc: UvHostTest, pollwake tasks on a real libuv
// loop: uv_async_t notifications, uv_timer_t promises, wakes from another
// thread, and the loop exiting first. Every loop run has a watchdog timer
// that stops it and fails the test instead of hanging.
#include "interop/hostloop/uv_host.h"

#include <uv.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "interop/coro/async_fn.h"
#include "interop/hostloop/promise.h"
#include "poll/box_future.h"
#include "tests/hostloop/host_support.h"

namespace pollwake::hostloop {
namespace {

using testing::ParkedCounters;
using testing::ParkedFuture;

// A loop with a watchdog: run() fails the test if it takes more than 20 s.
class Loop {
 public:
  Loop() { uv_loop_init(&loop_); }
  ~Loop() {
    uv_run(&loop_, UV_RUN_DEFAULT);  // let close callbacks free their handles
    EXPECT_EQ(uv_loop_close(&loop_), 0) << "a handle was left open";
  }
  uv_loop_t* get() { return &loop_; }
  // Runs until nothing keeps the loop alive; false if the watchdog fired.
  bool run() {
    uv_timer_t watchdog;
    uv_timer_init(&loop_, &watchdog);
    watchdog.data = this;
    fired_ = false;
    uv_timer_start(
        &watchdog,
        [](uv_timer_t* t) {
          static_cast<Loop*>(t->data)->fired_ = true;
          uv_stop(t->loop);
        },
        20000, 0);
    // SAFETY: uv_timer_t is a uv_handle_t (libuv's handle layout).
    uv_unref(reinterpret_cast<uv_handle_t*>(&watchdog));  // it alone must not keep the loop
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_close(reinterpret_cast<uv_handle_t*>(&watchdog), nullptr);
    uv_run(&loop_, UV_RUN_NOWAIT);
    return !fired_;
  }

 private:
  uv_loop_t loop_;
  bool fired_ = false;
};

coro::Async<> SleepThrice(uv_loop_t* loop, std::vector<std::string>* log) {
  for (int i = 1; i <= 3; ++i) {
    absl::StatusOr<Unit> r = co_await uv_delay(loop, 1);
    log->push_back(r.ok() ? "tick " + std::to_string(i) : std::string(r.status().message()));
  }
}

TEST(UvHostTest, TimerPromisesDriveATaskToCompletion) {
  Loop loop;
  UvHost host(loop.get());
  std::vector<std::string> log;
  absl::Status done = absl::UnknownError("not run");
  host.spawn_local(boxed_local(SleepThrice(loop.get(), &log)), [&](absl::Status s) { done = s; });
  ASSERT_TRUE(loop.run()) << "watchdog fired";
  EXPECT_TRUE(done.ok());
  EXPECT_EQ(log, (std::vector<std::string>{"tick 1", "tick 2", "tick 3"}));
  // One pass for the spawn, one per timer: each timer's wake notified once.
  EXPECT_EQ(host.passes(), 4u);
  EXPECT_EQ(host.executor().notify_calls(), 4u);
}

TEST(UvHostTest, ManyWakesBeforeTheLoopRunsCostOneAsyncCallback) {
  Loop loop;
  UvHost host(loop.get());
  auto c = std::make_shared<ParkedCounters>();
  host.spawn_local(boxed_local(ParkedFuture(c)));
  uv_run(loop.get(), UV_RUN_NOWAIT);  // first pass: the task parks
  ASSERT_EQ(c->polls.load(), 1);
  const std::uint64_t passes = host.passes();
  const std::uint64_t notifies = host.executor().notify_calls();
  c->release.store(true);
  std::optional<Waker> w = c->clone_waker();
  for (int i = 0; i < 1000; ++i) w->wake_by_ref();
  // The executor coalesced: one uv_async_send, not 1000 (libuv would merge
  // them into one callback too, so the pass count alone cannot tell).
  EXPECT_EQ(host.executor().notify_calls() - notifies, 1u);
  ASSERT_TRUE(loop.run());
  EXPECT_EQ(host.passes() - passes, 1u);
  EXPECT_EQ(c->polls.load(), 2);
}

coro::Async<> AwaitValue(Promise<int> p, absl::StatusOr<int>* out) { *out = co_await std::move(p); }

TEST(UvHostTest, PromiseResolvedFromAnotherThreadWakesTheLoop) {
  Loop loop;
  UvHost host(loop.get());
  auto [promise, resolver] = make_promise<int>();
  absl::StatusOr<int> got = absl::UnknownError("not yet");
  host.spawn_local(boxed_local(AwaitValue(std::move(promise), &got)));
  std::thread resolver_thread([r = std::move(resolver)]() mutable {
    // Wait (bounded) until the task awaits, so the wake crosses threads.
    for (int i = 0; i < 20000 && !r.is_awaited(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    r.resolve(7);
  });
  const bool finished = loop.run();  // blocks in epoll until the thread's wake
  resolver_thread.join();
  ASSERT_TRUE(finished) << "lost wakeup: watchdog fired";
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, 7);
}

TEST(UvHostTest, HostClosingFirstCancelsPendingTimers) {
  Loop loop;
  auto host = std::make_unique<UvHost>(loop.get());
  std::vector<std::string> log;
  host->spawn_local(boxed_local([](uv_loop_t* l, std::vector<std::string>* log) -> coro::Async<> {
    (void)co_await uv_delay(l, 60000);  // a minute: the host will not wait
    log->push_back("woke");
  }(loop.get(), &log)));
  uv_run(loop.get(), UV_RUN_NOWAIT);  // the task now awaits the long timer
  ASSERT_EQ(host->executor().live_tasks(), 1u);
  host->close();  // the host loop exits first: the task is dropped, its timer stopped
  ASSERT_TRUE(loop.run()) << "the canceled timer still held the loop";
  EXPECT_TRUE(log.empty());
}

TEST(UvHostTest, WakeAfterCloseIsIgnored) {
  Loop loop;
  auto host = std::make_unique<UvHost>(loop.get());
  auto c = std::make_shared<ParkedCounters>();
  host->spawn_local(boxed_local(ParkedFuture(c)));
  uv_run(loop.get(), UV_RUN_NOWAIT);
  std::optional<Waker> w = c->clone_waker();
  host.reset();  // closes: no uv_async_send on the closed handle afterwards
  std::thread([&] { w->wake_by_ref(); }).join();
  EXPECT_TRUE(loop.run());
  EXPECT_EQ(c->drops.load(), 1);
}

}  // namespace
}  // namespace pollwake::hostloop
