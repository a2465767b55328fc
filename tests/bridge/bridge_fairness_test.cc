// tests/bridge/bridge_fairness_test.cc: BridgeFairnessTest: the runtime
// thread works in turns of at most PWB_RUNTIME_BUDGET units (commands taken
// by the dispatcher, rows examined by a scan), so a flood of commands cannot
// starve the tasks already running, and running tasks cannot starve new
// commands.
//
// Everything here is counted, not timed: a RuntimeGate holds the runtime
// thread while the test queues its calls, so the runtime finds them all in
// the channel at once, and the callbacks (all on the runtime thread) record
// what had happened when they ran.
#include <algorithm>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "interop/bridge/pollwake_bridge.h"
#include "tests/bridge/bridge_test_util.h"

namespace {

using pollwake::bridge::testing::Call;
using pollwake::bridge::testing::ConnectOrZero;
using pollwake::bridge::testing::Counter;
using pollwake::bridge::testing::RuntimeGate;

constexpr int64_t kRows = 20 * PWB_RUNTIME_BUDGET;  // a scan of twenty turns

// Fills table "t" of `c` with kRows rows.
void Fill(pwb_conn c) {
  ASSERT_EQ(pwb_create_table_blocking(c, "t", nullptr, 0), PWB_OK);
  std::vector<int64_t> keys;
  std::vector<std::string> storage;
  for (int64_t i = 0; i < kRows; ++i) {
    keys.push_back(i);
    storage.push_back("v" + std::to_string(i));
  }
  std::vector<const char*> values;
  for (const std::string& v : storage) values.push_back(v.c_str());
  uint64_t n = 0;
  ASSERT_EQ(pwb_insert_blocking(c, "t", keys.data(), values.data(), keys.size(), &n, nullptr, 0),
            PWB_OK);
  ASSERT_EQ(n, static_cast<uint64_t>(kRows));
}

// A scan that notes, at each of its rows and at its completion, how many
// pings had completed by then.
struct WatchedScan {
  explicit WatchedScan(Counter* p) : pings(p) {}
  Counter* pings;
  std::vector<int64_t> pings_at_row;  // runtime thread only, read after done
  int64_t pings_at_done = -1;
  Call call;
  static void Row(void* ud, int64_t key, const char* value, size_t len) {
    auto* self = static_cast<WatchedScan*>(ud);
    self->pings_at_row.push_back(self->pings->total());
    Call::Row(&self->call, key, value, len);
  }
  static void Done(void* ud, pwb_status s, const char* m, uint64_t v) {
    auto* self = static_cast<WatchedScan*>(ud);
    self->pings_at_done = self->pings->total();
    Call::Done(&self->call, s, m, v);  // publishes the fields above (its mutex)
  }
};

TEST(BridgeFairnessTest, AFloodOfCommandsDoesNotStarveARunningScan) {
  constexpr int64_t kFlood = 10000;
  const pwb_conn c = ConnectOrZero("fair-flood");
  ASSERT_NE(c, 0u);
  Fill(c);
  Counter pings;
  WatchedScan scan(&pings);
  RuntimeGate gate;
  ASSERT_TRUE(gate.Hold()) << "watchdog: the gate's ping never ran";
  // The scan first, then the flood behind it: all in the channel at once.
  ASSERT_EQ(pwb_scan(c, "t", nullptr, &WatchedScan::Row, &WatchedScan::Done, &scan), PWB_OK);
  for (int64_t i = 0; i < kFlood; ++i) ASSERT_EQ(pwb_ping(&Counter::Done, &pings), PWB_OK);
  gate.Open();
  ASSERT_TRUE(scan.call.Wait()) << "watchdog: the scan never completed";
  ASSERT_TRUE(pings.WaitFor(kFlood)) << "watchdog: pings lost";
  EXPECT_FALSE(gate.timed_out());
  ASSERT_EQ(scan.call.status(), PWB_OK) << scan.call.message();
  ASSERT_EQ(scan.pings_at_row.size(), static_cast<size_t>(kRows));
  EXPECT_EQ(pings.count(PWB_OK), kFlood);

  // Between two turns of the scan, the dispatcher takes at most one budget
  // of commands, and those pings run: a turn of the scan follows every
  // PWB_RUNTIME_BUDGET or so pings. Unbudgeted, the dispatcher would have
  // taken all ten thousand in one poll and run them all between two turns.
  int64_t widest_gap = 0;
  for (size_t i = 1; i < scan.pings_at_row.size(); ++i) {
    widest_gap = std::max(widest_gap, scan.pings_at_row[i] - scan.pings_at_row[i - 1]);
  }
  EXPECT_LE(widest_gap, 2 * PWB_RUNTIME_BUDGET);
  // So the scan finishes long before the flood does.
  EXPECT_LT(scan.pings_at_done, kFlood / 2);
  RecordProperty("widest_gap", static_cast<int>(widest_gap));
  RecordProperty("pings_at_scan_done", static_cast<int>(scan.pings_at_done));
  EXPECT_EQ(pwb_shutdown(), PWB_OK);
}

// Scans that each take twenty turns, and a ping sent from the first row of
// the first one (on the runtime thread, so no clock decides when): the
// dispatcher is polled between the scans' turns, so the ping completes
// while every scan is still running.
struct Busy {
  std::mutex mu;  // the fields are written on the runtime thread
  int64_t rows = 0;
  int scans_done = 0;
  bool ping_sent = false;
  int64_t rows_at_ping = -1;
  int scans_done_at_ping = -1;
  Call ping;
  std::vector<Call> scans;

  static void PingDone(void* ud, pwb_status s, const char* m, uint64_t v) {
    auto* self = static_cast<Busy*>(ud);
    {
      std::lock_guard lock(self->mu);
      self->rows_at_ping = self->rows;
      self->scans_done_at_ping = self->scans_done;
    }
    Call::Done(&self->ping, s, m, v);
  }
};
struct BusyScan {
  Busy* busy;
  int index;
  static void Row(void* ud, int64_t key, const char* value, size_t len) {
    auto* self = static_cast<BusyScan*>(ud);
    bool send = false;
    {
      std::lock_guard lock(self->busy->mu);
      ++self->busy->rows;
      send = !self->busy->ping_sent;
      self->busy->ping_sent = true;
    }
    if (send) pwb_ping(&Busy::PingDone, self->busy);
    Call::Row(&self->busy->scans[self->index], key, value, len);
  }
  static void Done(void* ud, pwb_status s, const char* m, uint64_t v) {
    auto* self = static_cast<BusyScan*>(ud);
    {
      std::lock_guard lock(self->busy->mu);
      ++self->busy->scans_done;
    }
    Call::Done(&self->busy->scans[self->index], s, m, v);
  }
};

TEST(BridgeFairnessTest, RunningScansDoNotStarveANewCommand) {
  constexpr int kScans = 8;
  const pwb_conn c = ConnectOrZero("fair-busy");
  ASSERT_NE(c, 0u);
  Fill(c);
  Busy busy;
  busy.scans = std::vector<Call>(kScans);
  std::vector<BusyScan> ctx;
  for (int i = 0; i < kScans; ++i) ctx.push_back(BusyScan{&busy, i});
  RuntimeGate gate;
  ASSERT_TRUE(gate.Hold()) << "watchdog: the gate's ping never ran";
  for (BusyScan& s : ctx) {
    ASSERT_EQ(pwb_scan(c, "t", nullptr, &BusyScan::Row, &BusyScan::Done, &s), PWB_OK);
  }
  gate.Open();
  for (Call& s : busy.scans) {
    ASSERT_TRUE(s.Wait()) << "watchdog: a scan never completed";
    EXPECT_EQ(s.status(), PWB_OK) << s.message();
    EXPECT_EQ(s.value(), static_cast<uint64_t>(kRows));
  }
  ASSERT_TRUE(busy.ping.Wait()) << "watchdog: the ping never completed";
  EXPECT_FALSE(gate.timed_out());
  EXPECT_EQ(busy.ping.status(), PWB_OK);
  {
    std::lock_guard lock(busy.mu);
    // Unchunked, the first scan would have delivered all its rows in one
    // poll and every scan would have finished before the dispatcher saw
    // the ping.
    EXPECT_EQ(busy.scans_done_at_ping, 0);
    EXPECT_LT(busy.rows_at_ping, kScans * kRows / 2);
    RecordProperty("rows_at_ping", static_cast<int>(busy.rows_at_ping));
  }
  EXPECT_EQ(pwb_shutdown(), PWB_OK);
}

}  // namespace
