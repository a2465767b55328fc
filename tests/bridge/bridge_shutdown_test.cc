// tests/bridge/bridge_shutdown_test.cc: BridgeShutdownTest: pwb_shutdown with
// calls in flight, racing callers and other shutdowns, and restarts.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "interop/bridge/pollwake_bridge.h"
#include "tests/bridge/bridge_test_util.h"

namespace {

using pollwake::bridge::testing::Call;
using pollwake::bridge::testing::ConnectOrZero;
using pollwake::bridge::testing::Counter;

TEST(BridgeShutdownTest, InFlightCallsAreCanceledBeforeShutdownReturns) {
  const pwb_conn c = ConnectOrZero("slow", PWB_MAX_LATENCY_US);  // 1 s per operation
  ASSERT_NE(c, 0u);
  std::vector<Call> calls(300);
  for (Call& call : calls) ASSERT_EQ(pwb_count(c, "t", &Call::Done, &call), PWB_OK);
  ASSERT_EQ(pwb_shutdown(), PWB_OK);
  // No waiting: shutdown returns only after every completion ran.
  EXPECT_EQ(pwb_calls_in_flight(), 0u);
  for (Call& call : calls) {
    EXPECT_EQ(call.completions(), 1);
    EXPECT_EQ(call.status(), PWB_CANCELED);
  }
  EXPECT_EQ(pwb_count(c, "t", &Call::Done, &calls[0]), PWB_NOT_RUNNING);
  EXPECT_EQ(calls[0].completions(), 2);  // this second call's own completion
}

TEST(BridgeShutdownTest, ABlockingCallInFlightIsCanceled) {
  const pwb_conn c = ConnectOrZero("slow", PWB_MAX_LATENCY_US);
  ASSERT_NE(c, 0u);
  std::atomic<pwb_status> got{-1};
  std::thread caller([&] { got = pwb_count_blocking(c, "t", nullptr, nullptr, 0); });
  // Wait (bounded) until the call has been sent; queued or sleeping, the
  // shutdown must then cancel it.
  const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (pwb_calls_in_flight() == 0 && std::chrono::steady_clock::now() < limit) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(pwb_calls_in_flight(), 1u) << "watchdog: the blocking call was never sent";
  ASSERT_EQ(pwb_shutdown(), PWB_OK);
  EXPECT_EQ(pwb_calls_in_flight(), 0u);
  caller.join();
  EXPECT_EQ(got.load(), PWB_CANCELED);
}

TEST(BridgeShutdownTest, CallersRacingShutdownsAndRestartsEachGetOneCompletion) {
  constexpr int kThreads = 4;
  constexpr int kCalls = 400;
  std::atomic<bool> stop{false};
  std::vector<std::vector<Call>> calls(kThreads);
  for (auto& v : calls) v = std::vector<Call>(kCalls);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCalls; ++i) {
        if (i % 50 == 0) ConnectOrZero("race", 100);  // may restart the runtime
        pwb_ping(&Call::Done, &calls[t][i]);
        if (i % 3 == 0) pwb_ping_blocking();
      }
    });
  }
  std::thread stopper([&] {
    for (int i = 0; i < 30 && !stop.load(); ++i) {
      EXPECT_EQ(pwb_shutdown(), PWB_OK);
      std::this_thread::sleep_for(std::chrono::microseconds(300));
    }
  });
  for (auto& th : threads) th.join();
  stop = true;
  stopper.join();
  ASSERT_EQ(pwb_shutdown(), PWB_OK);
  int ok = 0;
  for (auto& v : calls) {
    for (Call& call : v) {
      ASSERT_EQ(call.completions(), 1);
      const pwb_status s = call.status();
      EXPECT_TRUE(s == PWB_OK || s == PWB_CANCELED || s == PWB_NOT_RUNNING)
          << pwb_status_name(s);
      ok += s == PWB_OK;
    }
  }
  EXPECT_EQ(pwb_open_connections(), 0u);
  RecordProperty("ok_pings", ok);
}

TEST(BridgeShutdownTest, ConcurrentShutdownsAllReturnOkAndJoinOnce) {
  for (int round = 0; round < 20; ++round) {
    const pwb_conn c = ConnectOrZero("db", 1000);
    ASSERT_NE(c, 0u);
    Counter counter;
    for (int i = 0; i < 50; ++i) pwb_count(c, "t", &Counter::Done, &counter);
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] { ok += pwb_shutdown() == PWB_OK; });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(ok.load(), 4);
    EXPECT_EQ(counter.total(), 50);
  }
}

TEST(BridgeShutdownTest, CallbacksRunDuringShutdownMayCallTheApi) {
  const pwb_conn c = ConnectOrZero("db", PWB_MAX_LATENCY_US);
  ASSERT_NE(c, 0u);
  struct Ctx {
    std::atomic<pwb_status> status{-1};
    std::atomic<pwb_status> nested{-1};
    std::atomic<pwb_status> connect{-1};
  } ctx;
  ASSERT_EQ(pwb_count(c, "t",
                      [](void* ud, pwb_status s, const char*, uint64_t) {
                        auto* x = static_cast<Ctx*>(ud);
                        x->status = s;
                        // The runtime is stopping: refused at once, no deadlock.
                        x->nested = pwb_ping([](void*, pwb_status, const char*, uint64_t) {},
                                             nullptr);
                        x->connect = pwb_connect(
                            "db", 0, [](void*, pwb_status, const char*, uint64_t) {}, nullptr);
                      },
                      &ctx),
            PWB_OK);
  ASSERT_EQ(pwb_shutdown(), PWB_OK);
  EXPECT_EQ(ctx.status.load(), PWB_CANCELED);
  EXPECT_EQ(ctx.nested.load(), PWB_NOT_RUNNING);
  EXPECT_EQ(ctx.connect.load(), PWB_WOULD_DEADLOCK);
}

}  // namespace
