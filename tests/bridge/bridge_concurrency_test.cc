// tests/bridge/bridge_concurrency_test.cc: BridgeConcurrencyTest: many
// client threads with many outstanding commands, and racing first connects.
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "interop/bridge/pollwake_bridge.h"
#include "tests/bridge/bridge_test_util.h"

namespace {

using pollwake::bridge::testing::Call;
using pollwake::bridge::testing::ConnectOrZero;
using pollwake::bridge::testing::Counter;

constexpr int kThreads = 8;
constexpr int kCallsPerThread = 200;

TEST(BridgeConcurrencyTest, ManyThreadsWithManyOutstandingCallsEachGetOneCompletion) {
  const pwb_conn c = ConnectOrZero("concurrent", 200);  // 200 us per operation
  ASSERT_NE(c, 0u);
  ASSERT_EQ(pwb_create_table_blocking(c, "t", nullptr, 0), PWB_OK);
  // Every call records its own completions: exactly one each.
  std::vector<std::vector<Call>> calls(kThreads);
  for (auto& v : calls) v = std::vector<Call>(kCallsPerThread);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCallsPerThread; ++i) {
        const int64_t key = int64_t{t} * kCallsPerThread + i;
        const std::string value = "t" + std::to_string(t) + "-" + std::to_string(i);
        const char* values[] = {value.c_str()};
        pwb_insert(c, "t", &key, values, 1, &Call::Done, &calls[t][i]);  // all outstanding
      }
    });
  }
  for (auto& th : threads) th.join();
  for (auto& v : calls) {
    for (Call& call : v) {
      ASSERT_TRUE(call.Wait()) << "watchdog: an insert never completed";
      EXPECT_EQ(call.status(), PWB_OK) << call.message();
      EXPECT_EQ(call.value(), 1u);
    }
  }
  uint64_t n = 0;
  ASSERT_EQ(pwb_count_blocking(c, "t", &n, nullptr, 0), PWB_OK);
  EXPECT_EQ(n, uint64_t{kThreads} * kCallsPerThread);
  // Each thread's rows, scanned with a key range, are all there.
  for (int t = 0; t < kThreads; ++t) {
    Call scan;
    pwb_filter f{int64_t{t} * kCallsPerThread, int64_t{t + 1} * kCallsPerThread - 1, nullptr};
    ASSERT_EQ(pwb_scan(c, "t", &f, &Call::Row, &Call::Done, &scan), PWB_OK);
    ASSERT_TRUE(scan.Wait());
    EXPECT_EQ(scan.value(), uint64_t{kCallsPerThread});
  }
  for (auto& v : calls) {
    for (Call& call : v) EXPECT_EQ(call.completions(), 1);
  }
  EXPECT_EQ(pwb_shutdown(), PWB_OK);
}

TEST(BridgeConcurrencyTest, BlockingCallsFromManyThreadsSeeTheirOwnResults) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string table = "t" + std::to_string(t);
      const pwb_conn c = ConnectOrZero("blocking", 50);
      if (c == 0 || pwb_create_table_blocking(c, table.c_str(), nullptr, 0) != PWB_OK) {
        ++failures;
        return;
      }
      for (int i = 0; i < 50; ++i) {
        const int64_t key = i;
        const char* values[] = {"v"};
        uint64_t n = 0;
        if (pwb_insert_blocking(c, table.c_str(), &key, values, 1, &n, nullptr, 0) != PWB_OK ||
            pwb_count_blocking(c, table.c_str(), &n, nullptr, 0) != PWB_OK ||
            n != static_cast<uint64_t>(i + 1)) {
          ++failures;
        }
      }
      if (pwb_close_blocking(c, nullptr, 0) != PWB_OK) ++failures;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(pwb_open_connections(), 0u);
  EXPECT_EQ(pwb_shutdown(), PWB_OK);
}

TEST(BridgeConcurrencyTest, ConcurrentFirstConnectsStartOneRuntime) {
  for (int round = 0; round < 20; ++round) {
    ASSERT_EQ(pwb_shutdown(), PWB_OK);
    const uint64_t before = pwb_runtime_starts();
    std::atomic<bool> go{false};
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        while (!go.load()) std::this_thread::yield();
        if (ConnectOrZero("race") != 0) ++ok;
      });
    }
    go = true;
    for (auto& th : threads) th.join();
    EXPECT_EQ(ok.load(), kThreads);
    EXPECT_EQ(pwb_runtime_starts() - before, 1u) << "round " << round;
    EXPECT_EQ(pwb_open_connections(), uint64_t{kThreads});
  }
  EXPECT_EQ(pwb_shutdown(), PWB_OK);
}

TEST(BridgeConcurrencyTest, PingsFromManyThreadsAllComplete) {
  ASSERT_NE(ConnectOrZero("ping"), 0u);
  Counter counter;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) pwb_ping(&Counter::Done, &counter);
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE(counter.WaitFor(kThreads * 1000)) << "watchdog: " << counter.total() << " pings";
  EXPECT_EQ(counter.count(PWB_OK), kThreads * 1000);
  EXPECT_EQ(pwb_shutdown(), PWB_OK);
  EXPECT_EQ(counter.total(), kThreads * 1000) << "a ping completed twice";
}

}  // namespace
