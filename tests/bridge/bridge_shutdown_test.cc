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
using pollwake::bridge::testing::kWatchdog;

// RuntimeGate: holds the runtime thread inside a ping's done callback until
// the runtime is stopping, so that the calls a test submits meanwhile wait
// in the channel: none can start its latency, let alone finish it, before
// pwb_shutdown. Without it, "in flight at shutdown" would depend on this
// machine submitting the calls and reaching pwb_shutdown within one latency
// (1 s), a wall-clock assumption a loaded machine can break. The callback
// learns that the runtime is stopping by probing with pwb_ping (refused
// with PWB_NOT_RUNNING from then on); it probes only after Release(), so
// that until then the probes add nothing to pwb_calls_in_flight.
class RuntimeGate {
 public:
  // Sends the gate's ping; true once its callback holds the runtime thread.
  bool Hold() {
    if (pwb_ping(&Done, this) != PWB_OK) return false;
    const auto limit = std::chrono::steady_clock::now() + kWatchdog;
    while (!holding_.load() && std::chrono::steady_clock::now() < limit) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return holding_.load();
  }
  // Call just before pwb_shutdown: the callback returns once it sees the
  // runtime stopping.
  void Release() { release_ = true; }
  // The callback gave up (watchdog) instead of seeing the runtime stop.
  bool timed_out() const { return timed_out_.load(); }

 private:
  static void Done(void* ud, pwb_status, const char*, uint64_t) {
    auto* self = static_cast<RuntimeGate*>(ud);
    self->holding_ = true;
    const auto limit = std::chrono::steady_clock::now() + kWatchdog;
    while (std::chrono::steady_clock::now() < limit) {
      if (self->release_.load() &&
          pwb_ping([](void*, pwb_status, const char*, uint64_t) {}, nullptr) == PWB_NOT_RUNNING) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    self->timed_out_ = true;
  }

  std::atomic<bool> holding_{false};
  std::atomic<bool> release_{false};
  std::atomic<bool> timed_out_{false};
};

TEST(BridgeShutdownTest, InFlightCallsAreCanceledBeforeShutdownReturns) {
  const pwb_conn c = ConnectOrZero("slow", PWB_MAX_LATENCY_US);  // 1 s per operation
  ASSERT_NE(c, 0u);
  RuntimeGate gate;
  ASSERT_TRUE(gate.Hold()) << "watchdog: the gate's ping never ran";
  std::vector<Call> calls(300);
  for (Call& call : calls) ASSERT_EQ(pwb_count(c, "t", &Call::Done, &call), PWB_OK);
  gate.Release();
  ASSERT_EQ(pwb_shutdown(), PWB_OK);
  EXPECT_FALSE(gate.timed_out());
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
  RuntimeGate gate;
  ASSERT_TRUE(gate.Hold()) << "watchdog: the gate's ping never ran";
  std::atomic<pwb_status> got{-1};
  std::thread caller([&] { got = pwb_count_blocking(c, "t", nullptr, nullptr, 0); });
  // Wait (bounded) until the call has been sent; queued or sleeping, the
  // shutdown must then cancel it.
  const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (pwb_calls_in_flight() == 0 && std::chrono::steady_clock::now() < limit) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(pwb_calls_in_flight(), 1u) << "watchdog: the blocking call was never sent";
  gate.Release();
  ASSERT_EQ(pwb_shutdown(), PWB_OK);
  EXPECT_FALSE(gate.timed_out());
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
  RuntimeGate gate;
  ASSERT_TRUE(gate.Hold()) << "watchdog: the gate's ping never ran";
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
  gate.Release();
  ASSERT_EQ(pwb_shutdown(), PWB_OK);
  EXPECT_FALSE(gate.timed_out());
  EXPECT_EQ(ctx.status.load(), PWB_CANCELED);
  EXPECT_EQ(ctx.nested.load(), PWB_NOT_RUNNING);
  EXPECT_EQ(ctx.connect.load(), PWB_WOULD_DEADLOCK);
}

}  // namespace
