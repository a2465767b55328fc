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
using pollwake::bridge::testing::RuntimeGate;

// No latency: once the gate lets go the runtime could run every queued count
// at once; it must not, because pwb_shutdown has begun by then (the gate
// returns only after seeing that), and from then on no queued call starts.
TEST(BridgeShutdownTest, InFlightCallsAreCanceledBeforeShutdownReturns) {
  const pwb_conn c = ConnectOrZero("fast", 0);
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

// A scan that is running when pwb_shutdown begins finishes the turn it is in
// (at most PWB_RUNTIME_BUDGET rows) and then stops: PWB_CANCELED, its rows
// all before that one completion. Its first row callback holds the runtime
// thread until it sees the runtime stopping, so the shutdown begins in the
// middle of the scan's first turn whatever the machine's speed.
struct ScanAcrossShutdown {
  std::atomic<bool> scanning{false};
  std::atomic<bool> timed_out{false};
  Call call;
  static void Row(void* ud, int64_t key, const char* value, size_t len) {
    auto* self = static_cast<ScanAcrossShutdown*>(ud);
    if (!self->scanning.exchange(true)) {
      const auto limit = std::chrono::steady_clock::now() + kWatchdog;
      while (pwb_ping([](void*, pwb_status, const char*, uint64_t) {}, nullptr) !=
             PWB_NOT_RUNNING) {
        if (std::chrono::steady_clock::now() > limit) {
          self->timed_out = true;
          break;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    }
    Call::Row(&self->call, key, value, len);
  }
  static void Done(void* ud, pwb_status s, const char* m, uint64_t v) {
    Call::Done(&static_cast<ScanAcrossShutdown*>(ud)->call, s, m, v);
  }
};
TEST(BridgeShutdownTest, AScanRunningWhenShutdownBeginsStopsAfterItsTurn) {
  constexpr int64_t kRows = 10 * PWB_RUNTIME_BUDGET;
  const pwb_conn c = ConnectOrZero("scan-stop", 0);
  ASSERT_NE(c, 0u);
  ASSERT_EQ(pwb_create_table_blocking(c, "t", nullptr, 0), PWB_OK);
  std::vector<int64_t> keys(kRows);
  std::vector<const char*> values(kRows, "v");
  for (int64_t i = 0; i < kRows; ++i) keys[i] = i;
  ASSERT_EQ(pwb_insert_blocking(c, "t", keys.data(), values.data(), kRows, nullptr, nullptr, 0),
            PWB_OK);
  ScanAcrossShutdown scan;
  ASSERT_EQ(pwb_scan(c, "t", nullptr, &ScanAcrossShutdown::Row, &ScanAcrossShutdown::Done, &scan),
            PWB_OK);
  const auto limit = std::chrono::steady_clock::now() + kWatchdog;
  while (!scan.scanning.load() && std::chrono::steady_clock::now() < limit) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(scan.scanning.load()) << "watchdog: the scan never delivered a row";
  ASSERT_EQ(pwb_shutdown(), PWB_OK);
  EXPECT_FALSE(scan.timed_out.load());
  ASSERT_EQ(scan.call.completions(), 1);
  EXPECT_EQ(scan.call.status(), PWB_CANCELED) << scan.call.message();
  EXPECT_EQ(scan.call.rows().size(), static_cast<size_t>(PWB_RUNTIME_BUDGET))
      << "the turn under way finishes; no other starts";
  EXPECT_FALSE(scan.call.row_after_completion());
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
  const auto limit = std::chrono::steady_clock::now() + kWatchdog;
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
