// tests/bridge/bridge_api_test.cc: BridgeApiTest: what each C call does,
// through both APIs, and what bad handles and bad arguments get.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "executor/block_on.h"
#include "interop/bridge/bridge_testing.h"
#include "interop/bridge/handle_table.h"
#include "interop/bridge/pollwake_bridge.h"
#include "poll/context.h"
#include "poll/poll.h"
#include "tests/bridge/bridge_test_util.h"

namespace {

using pollwake::bridge::testing::Call;
using pollwake::bridge::testing::ConnectOrZero;
using Rows = std::vector<std::pair<int64_t, std::string>>;

class BridgeApiTest : public ::testing::Test {
 protected:
  void TearDown() override { EXPECT_EQ(pwb_shutdown(), PWB_OK); }
};

void Insert(pwb_conn c, const char* table, const Rows& rows) {
  std::vector<int64_t> keys;
  std::vector<const char*> values;
  for (const auto& [k, v] : rows) {
    keys.push_back(k);
    values.push_back(v.c_str());
  }
  uint64_t n = 0;
  ASSERT_EQ(pwb_insert_blocking(c, table, keys.data(), values.data(), rows.size(), &n, nullptr, 0),
            PWB_OK);
  ASSERT_EQ(n, rows.size());
}

TEST_F(BridgeApiTest, CallbackApiConnectsCreatesInsertsCountsAndScans) {
  Call connect;
  ASSERT_EQ(pwb_connect("db-a", 100, &Call::Done, &connect), PWB_OK);
  ASSERT_TRUE(connect.Wait());
  ASSERT_EQ(connect.status(), PWB_OK) << connect.message();
  EXPECT_EQ(connect.message(), "");
  const pwb_conn c = connect.value();
  ASSERT_NE(c, 0u);

  Call create;
  ASSERT_EQ(pwb_create_table(c, "t", &Call::Done, &create), PWB_OK);
  ASSERT_TRUE(create.Wait());
  ASSERT_EQ(create.status(), PWB_OK) << create.message();

  const int64_t keys[] = {1, 2, 3};
  const char* values[] = {"one", "two", "three"};
  Call insert;
  ASSERT_EQ(pwb_insert(c, "t", keys, values, 3, &Call::Done, &insert), PWB_OK);
  ASSERT_TRUE(insert.Wait());
  ASSERT_EQ(insert.status(), PWB_OK) << insert.message();
  EXPECT_EQ(insert.value(), 3u);

  Call count;
  ASSERT_EQ(pwb_count(c, "t", &Call::Done, &count), PWB_OK);
  ASSERT_TRUE(count.Wait());
  EXPECT_EQ(count.status(), PWB_OK);
  EXPECT_EQ(count.value(), 3u);

  Call scan;
  pwb_filter f{2, 100, nullptr};
  ASSERT_EQ(pwb_scan(c, "t", &f, &Call::Row, &Call::Done, &scan), PWB_OK);
  ASSERT_TRUE(scan.Wait());
  EXPECT_EQ(scan.status(), PWB_OK);
  EXPECT_EQ(scan.value(), 2u);
  EXPECT_EQ(scan.rows(), (Rows{{2, "two"}, {3, "three"}}));

  Call close;
  ASSERT_EQ(pwb_close(c, &Call::Done, &close), PWB_OK);
  ASSERT_TRUE(close.Wait());
  EXPECT_EQ(close.status(), PWB_OK);
  for (Call* call : {&connect, &create, &insert, &count, &scan, &close}) {
    EXPECT_EQ(call->completions(), 1);
  }
}

TEST_F(BridgeApiTest, BlockingApiDoesTheSameRoundTrips) {
  pwb_conn c = 0;
  char msg[128] = "untouched";
  ASSERT_EQ(pwb_connect_blocking("db-b", 0, &c, msg, sizeof msg), PWB_OK);
  EXPECT_STREQ(msg, "");
  ASSERT_EQ(pwb_create_table_blocking(c, "t", msg, sizeof msg), PWB_OK);
  Insert(c, "t", {{10, "ten"}, {20, "twenty"}});
  uint64_t n = 0;
  ASSERT_EQ(pwb_count_blocking(c, "t", &n, msg, sizeof msg), PWB_OK);
  EXPECT_EQ(n, 2u);
  Call rows;  // collects the rows; its Done is never called by a blocking scan
  pwb_filter f{INT64_MIN, INT64_MAX, "wen"};
  ASSERT_EQ(pwb_scan_blocking(c, "t", &f, &Call::Row, &rows, &n, msg, sizeof msg), PWB_OK);
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(rows.rows(), (Rows{{20, "twenty"}}));
  EXPECT_EQ(rows.completions(), 0);
  EXPECT_EQ(pwb_ping_blocking(), PWB_OK);
  ASSERT_EQ(pwb_close_blocking(c, msg, sizeof msg), PWB_OK);
}

TEST_F(BridgeApiTest, ScanDeliversEveryRowBeforeItsOneCompletion) {
  const pwb_conn c = ConnectOrZero("db-order", 50);
  ASSERT_NE(c, 0u);
  ASSERT_EQ(pwb_create_table_blocking(c, "t", nullptr, 0), PWB_OK);
  Rows rows;
  for (int i = 0; i < 500; ++i) rows.emplace_back(i, "v" + std::to_string(i));
  Insert(c, "t", rows);
  std::vector<Call> scans(20);
  for (Call& s : scans) ASSERT_EQ(pwb_scan(c, "t", nullptr, &Call::Row, &Call::Done, &s), PWB_OK);
  for (Call& s : scans) {
    ASSERT_TRUE(s.Wait()) << "watchdog: a scan never completed";
    EXPECT_EQ(s.status(), PWB_OK);
    EXPECT_EQ(s.value(), 500u);
    EXPECT_EQ(s.rows(), rows);
    EXPECT_FALSE(s.row_after_completion());
  }
  ASSERT_EQ(pwb_ping_blocking(), PWB_OK);  // anything late would have arrived by now
  for (Call& s : scans) EXPECT_EQ(s.completions(), 1);
}

TEST_F(BridgeApiTest, ZeroForgedClosedAndStaleHandlesAreRefused) {
  const pwb_conn a = ConnectOrZero("db-a");
  ASSERT_NE(a, 0u);
  ASSERT_EQ(pwb_create_table_blocking(a, "secret", nullptr, 0), PWB_OK);
  Insert(a, "secret", {{1, "a's data"}});
  const uint32_t id = static_cast<uint32_t>(a >> 32);
  const pwb_conn forged_id = (static_cast<uint64_t>(id + 1000) << 32) | 1;
  const pwb_conn wrong_generation = a + 7;
  char msg[256];
  for (pwb_conn bad : {pwb_conn{0}, forged_id, wrong_generation, ~pwb_conn{0}}) {
    uint64_t n = 99;
    EXPECT_EQ(pwb_count_blocking(bad, "secret", &n, msg, sizeof msg), PWB_BAD_HANDLE) << bad;
    EXPECT_EQ(n, 0u);
    EXPECT_NE(std::string(msg).find("bad handle"), std::string::npos) << msg;
  }
  ASSERT_EQ(pwb_close_blocking(a, nullptr, 0), PWB_OK);
  EXPECT_EQ(pwb_close_blocking(a, msg, sizeof msg), PWB_BAD_HANDLE) << "closed twice";
  EXPECT_NE(std::string(msg).find("closed"), std::string::npos) << msg;

  // The slot is reused for the next connection, with a new generation: the
  // old handle must not reach it.
  const pwb_conn b = ConnectOrZero("db-b");
  ASSERT_NE(b, 0u);
  EXPECT_EQ(b >> 32, a >> 32) << "the freed slot should be reused";
  EXPECT_NE(b, a);
  ASSERT_EQ(pwb_create_table_blocking(b, "secret", nullptr, 0), PWB_OK);
  Insert(b, "secret", {{2, "b's data"}});
  Call stale;
  ASSERT_EQ(pwb_scan(a, "secret", nullptr, &Call::Row, &Call::Done, &stale), PWB_OK);
  ASSERT_TRUE(stale.Wait());
  EXPECT_EQ(stale.status(), PWB_BAD_HANDLE);
  EXPECT_TRUE(stale.rows().empty()) << "a stale handle reached another connection's data";
}

// Handles are not capabilities: the handle of the connection that reuses a
// closed one's slot is the closed handle plus one, and whoever computes it
// reaches that connection's data. The table detects stale, unknown and
// forged handles, not who is asking (pollwake_bridge.h, "Handles").
TEST_F(BridgeApiTest, HandlesAreGuessableNotCapabilities) {
  const pwb_conn a = ConnectOrZero("db-a");
  ASSERT_NE(a, 0u);
  ASSERT_EQ(pwb_close_blocking(a, nullptr, 0), PWB_OK);
  const pwb_conn b = ConnectOrZero("db-b");
  ASSERT_NE(b, 0u);
  ASSERT_EQ(pwb_create_table_blocking(b, "secret", nullptr, 0), PWB_OK);
  Insert(b, "secret", {{2, "b's data"}});

  const pwb_conn guessed = a + 1;  // same slot, next generation
  EXPECT_EQ(guessed, b);
  Call reached;
  ASSERT_EQ(pwb_scan(guessed, "secret", nullptr, &Call::Row, &Call::Done, &reached), PWB_OK);
  ASSERT_TRUE(reached.Wait());
  EXPECT_EQ(reached.status(), PWB_OK);
  EXPECT_EQ(reached.rows(), (Rows{{2, "b's data"}}));

  // What the table does detect, each with the reason it gives.
  char msg[256];
  struct Case {
    pwb_conn handle;
    const char* reason;
  };
  const Case cases[] = {
      {0, "the zero handle"},
      {a, "closed (stale handle)"},                          // after its slot was reused
      {b + 1, "forged"},                                     // a generation not yet issued
      {(uint64_t{UINT32_MAX} << 32) | 1, "ever opened"},    // an id never handed out
  };
  for (const Case& k : cases) {
    EXPECT_EQ(pwb_count_blocking(k.handle, "secret", nullptr, msg, sizeof msg), PWB_BAD_HANDLE)
        << k.reason;
    EXPECT_NE(std::string(msg).find(k.reason), std::string::npos) << msg;
  }
}

TEST_F(BridgeApiTest, HandlesFromBeforeShutdownAreStaleAfterRestart) {
  const pwb_conn a = ConnectOrZero("db");
  ASSERT_NE(a, 0u);
  ASSERT_EQ(pwb_shutdown(), PWB_OK);
  EXPECT_EQ(pwb_open_connections(), 0u);
  EXPECT_EQ(pwb_count_blocking(a, "t", nullptr, nullptr, 0), PWB_NOT_RUNNING);
  const pwb_conn b = ConnectOrZero("db");
  ASSERT_NE(b, 0u);
  EXPECT_NE(a, b);
  EXPECT_EQ(pwb_create_table_blocking(a, "t", nullptr, 0), PWB_BAD_HANDLE);
}

TEST_F(BridgeApiTest, CallsWithoutARuntimeGetNotRunningOnTheCallersThread) {
  ASSERT_EQ(pwb_shutdown(), PWB_OK);
  Call count;
  EXPECT_EQ(pwb_count(1, "t", &Call::Done, &count), PWB_NOT_RUNNING);
  EXPECT_EQ(count.completions(), 1) << "a refused call completes before returning";
  EXPECT_EQ(count.status(), PWB_NOT_RUNNING);
  EXPECT_EQ(pwb_ping_blocking(), PWB_NOT_RUNNING);
}

TEST_F(BridgeApiTest, BadArgumentsCompleteOnceWithInvalidArgument) {
  const pwb_conn c = ConnectOrZero("db");
  ASSERT_NE(c, 0u);
  EXPECT_EQ(pwb_count(c, "t", nullptr, nullptr), PWB_INVALID_ARGUMENT) << "NULL done";
  const std::string too_long(PWB_MAX_NAME_LEN + 1, 'x');
  const int64_t keys[] = {1};
  const char* null_value[] = {nullptr};
  struct Case {
    const char* what;
    pwb_status (*call)(pwb_conn, Call*, const std::string&);
  };
  const Case cases[] = {
      {"NULL uri", [](pwb_conn, Call* k, const std::string&) {
         return pwb_connect(nullptr, 0, &Call::Done, k);
       }},
      {"empty table", [](pwb_conn c, Call* k, const std::string&) {
         return pwb_create_table(c, "", &Call::Done, k);
       }},
      {"long table", [](pwb_conn c, Call* k, const std::string& s) {
         return pwb_count(c, s.c_str(), &Call::Done, k);
       }},
      {"latency", [](pwb_conn, Call* k, const std::string&) {
         return pwb_connect("db", PWB_MAX_LATENCY_US + 1, &Call::Done, k);
       }},
      {"NULL keys", [](pwb_conn c, Call* k, const std::string&) {
         return pwb_insert(c, "t", nullptr, nullptr, 1, &Call::Done, k);
       }},
      {"NULL row fn", [](pwb_conn c, Call* k, const std::string&) {
         return pwb_scan(c, "t", nullptr, nullptr, &Call::Done, k);
       }},
  };
  for (const Case& cs : cases) {
    Call k;
    EXPECT_EQ(cs.call(c, &k, too_long), PWB_INVALID_ARGUMENT) << cs.what;
    EXPECT_EQ(k.completions(), 1) << cs.what;
    EXPECT_EQ(k.status(), PWB_INVALID_ARGUMENT) << cs.what;
  }
  Call k;
  EXPECT_EQ(pwb_insert(c, "t", keys, null_value, 1, &Call::Done, &k), PWB_INVALID_ARGUMENT);
  EXPECT_EQ(k.completions(), 1);
  Call empty;  // n = 0 reads neither array; the missing table is found later
  EXPECT_EQ(pwb_insert(c, "t", keys, null_value, 0, &Call::Done, &empty), PWB_OK);
  ASSERT_TRUE(empty.Wait());
  EXPECT_EQ(empty.status(), PWB_NOT_FOUND);
}

TEST_F(BridgeApiTest, TablesAreSharedByUriAndNamedOnce) {
  const pwb_conn a = ConnectOrZero("shared");
  const pwb_conn b = ConnectOrZero("shared");
  const pwb_conn other = ConnectOrZero("other");
  ASSERT_TRUE(a && b && other);
  char msg[256];
  ASSERT_EQ(pwb_create_table_blocking(a, "t", msg, sizeof msg), PWB_OK);
  EXPECT_EQ(pwb_create_table_blocking(b, "t", msg, sizeof msg), PWB_ALREADY_EXISTS);
  EXPECT_STREQ(msg, "table 't' already exists");
  Insert(b, "t", {{1, "x"}});
  uint64_t n = 0;
  EXPECT_EQ(pwb_count_blocking(a, "t", &n, nullptr, 0), PWB_OK);
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(pwb_count_blocking(other, "t", &n, msg, sizeof msg), PWB_NOT_FOUND);
  EXPECT_STREQ(msg, "no table 't'");
  char tiny[4];
  EXPECT_EQ(pwb_count_blocking(other, "t", &n, tiny, sizeof tiny), PWB_NOT_FOUND);
  EXPECT_STREQ(tiny, "no ") << "the message is truncated and NUL-terminated";
}

// A callback may issue more asynchronous calls, but the blocking calls and
// shutdown would wait for the very thread that runs the callback.
struct Reentry {
  pwb_status blocking = -1;
  pwb_status shutdown = -1;
  Call nested;
};
TEST_F(BridgeApiTest, CallbacksMayCallAsyncButNotBlockingOrShutdown) {
  ASSERT_NE(ConnectOrZero("db"), 0u);
  Reentry r;
  Call outer;
  struct Ctx {
    Reentry* r;
    Call* outer;
  } ctx{&r, &outer};
  ASSERT_EQ(pwb_ping(
                [](void* ud, pwb_status s, const char* m, uint64_t v) {
                  auto* c = static_cast<Ctx*>(ud);
                  c->r->blocking = pwb_ping_blocking();
                  c->r->shutdown = pwb_shutdown();
                  pwb_ping(&Call::Done, &c->r->nested);
                  Call::Done(c->outer, s, m, v);
                },
                &ctx),
            PWB_OK);
  ASSERT_TRUE(outer.Wait());
  ASSERT_TRUE(r.nested.Wait());
  EXPECT_EQ(r.blocking, PWB_WOULD_DEADLOCK);
  EXPECT_EQ(r.shutdown, PWB_WOULD_DEADLOCK);
  EXPECT_EQ(r.nested.status(), PWB_OK);
}

// An exception after the command took the Completion (here the test seam:
// a send that failed to allocate): the call returns the status its `done`
// received, on this thread, once; the blocking call returns it too; the
// runtime carries on.
TEST_F(BridgeApiTest, FailedSendReturnsTheStatusItsDoneReceived) {
  const pwb_conn c = ConnectOrZero("db-fail", 0);
  ASSERT_NE(c, 0u);
  Call ping;
  pollwake::bridge::testing::FailNextSendOnThisThread();
  const pwb_status returned = pwb_ping(&Call::Done, &ping);
  ASSERT_EQ(ping.completions(), 1) << "done must run before the call returns";
  EXPECT_EQ(ping.status(), returned) << ping.message();
  EXPECT_EQ(returned, PWB_INTERNAL);
  EXPECT_NE(ping.message().find("internal error"), std::string::npos) << ping.message();

  Call count;
  pollwake::bridge::testing::FailNextSendOnThisThread();
  const pwb_status count_returned = pwb_count(c, "t", &Call::Done, &count);
  ASSERT_EQ(count.completions(), 1);
  EXPECT_EQ(count.status(), count_returned) << count.message();

  char message[128] = "";
  pollwake::bridge::testing::FailNextSendOnThisThread();
  EXPECT_EQ(pwb_count_blocking(c, "t", nullptr, message, sizeof message), PWB_INTERNAL)
      << message;
  EXPECT_EQ(pwb_calls_in_flight(), 0u);

  EXPECT_EQ(pwb_ping_blocking(), PWB_OK);  // the next send goes through
  EXPECT_EQ(ping.completions(), 1);
  EXPECT_EQ(count.completions(), 1);
}

// The runtime's run loop throwing (here the test seam makes the dispatcher's
// poll throw, and the LocalPool propagates it out of run_until): the calls
// the runtime had accepted hear PWB_INTERNAL saying so, not PWB_CANCELED
// (nobody shut it down) nor "failed before it reached the runtime"; later
// calls, connect included, get the same until pwb_shutdown, after which a
// connect starts a new runtime. A scan's row callback arms the seam and
// sends a ping, on the runtime thread: the ping wakes the dispatcher, which
// throws at its next poll, while the scan (four turns long) is unfinished
// and the ping still queued.
struct LoopFailure {
  bool armed = false;  // runtime thread only
  Call scan;
  Call ping;
  static void Row(void* ud, int64_t key, const char* value, size_t len) {
    auto* self = static_cast<LoopFailure*>(ud);
    if (!self->armed) {
      self->armed = true;
      pollwake::bridge::testing::MakeTheDispatcherThrowOnce();
      pwb_ping(&Call::Done, &self->ping);
    }
    Call::Row(&self->scan, key, value, len);
  }
  static void Done(void* ud, pwb_status s, const char* m, uint64_t v) {
    Call::Done(&static_cast<LoopFailure*>(ud)->scan, s, m, v);
  }
};
TEST_F(BridgeApiTest, ARunLoopThatThrowsFailsItsCallsWithInternalUntilShutdown) {
  const pwb_conn c = ConnectOrZero("db-loop");
  ASSERT_NE(c, 0u);
  const uint64_t starts = pwb_runtime_starts();
  ASSERT_EQ(pwb_create_table_blocking(c, "t", nullptr, 0), PWB_OK);
  Rows rows;
  for (int i = 0; i < 4 * PWB_RUNTIME_BUDGET; ++i) rows.emplace_back(i, "v");
  Insert(c, "t", rows);

  LoopFailure f;
  ASSERT_EQ(pwb_scan(c, "t", nullptr, &LoopFailure::Row, &LoopFailure::Done, &f), PWB_OK);
  ASSERT_TRUE(f.scan.Wait()) << "watchdog: the scan never completed";
  ASSERT_TRUE(f.ping.Wait()) << "watchdog: the ping never completed";
  const std::string kLoopThrew = "the runtime's run loop threw";
  EXPECT_EQ(f.scan.status(), PWB_INTERNAL) << f.scan.message();
  EXPECT_NE(f.scan.message().find(kLoopThrew), std::string::npos) << f.scan.message();
  EXPECT_LT(f.scan.rows().size(), rows.size()) << "the scan was dropped unfinished";
  EXPECT_FALSE(f.scan.row_after_completion());
  EXPECT_EQ(f.ping.status(), PWB_INTERNAL) << f.ping.message();
  EXPECT_NE(f.ping.message().find(kLoopThrew), std::string::npos) << f.ping.message();

  // Later calls: refused at once, with the same status and reason.
  char msg[512];
  EXPECT_EQ(pwb_count_blocking(c, "t", nullptr, msg, sizeof msg), PWB_INTERNAL);
  EXPECT_NE(std::string(msg).find("pwb_shutdown resets the bridge"), std::string::npos) << msg;
  Call later;
  EXPECT_EQ(pwb_ping(&Call::Done, &later), PWB_INTERNAL);
  EXPECT_EQ(later.completions(), 1) << "a refused call completes before returning";
  EXPECT_NE(later.message().find(kLoopThrew), std::string::npos) << later.message();
  pwb_conn d = 0;
  EXPECT_EQ(pwb_connect_blocking("db-loop", 0, &d, msg, sizeof msg), PWB_INTERNAL) << msg;
  EXPECT_EQ(pwb_calls_in_flight(), 0u);
  for (Call* call : {&f.scan, &f.ping}) EXPECT_EQ(call->completions(), 1);

  // pwb_shutdown resets it; a connect starts a new runtime.
  ASSERT_EQ(pwb_shutdown(), PWB_OK);
  EXPECT_EQ(pwb_ping_blocking(), PWB_NOT_RUNNING);
  ASSERT_NE(ConnectOrZero("db-loop"), 0u);
  EXPECT_EQ(pwb_runtime_starts(), starts + 1);
  EXPECT_EQ(pwb_ping_blocking(), PWB_OK);
  EXPECT_EQ(pwb_count_blocking(c, "t", nullptr, nullptr, 0), PWB_BAD_HANDLE);
}

// pwb_connect from inside a pollwake executor (here block_on) when no
// runtime runs: starting one would block that executor on the runtime's
// ready signal, so the call is refused with PWB_WOULD_DEADLOCK (and done
// hears the same, at once); once a runtime runs, the same call is accepted.
struct ConnectInsideExecutor {
  using Output = pollwake::Unit;
  Call* call;
  pwb_status* returned;
  pollwake::Poll<pollwake::Unit> poll(pollwake::Context&) {
    *returned = pwb_connect("db-exec", 0, &Call::Done, call);
    return pollwake::Ready();
  }
};
TEST_F(BridgeApiTest, ConnectInsideAnExecutorWithNoRuntimeWouldDeadlock) {
  ASSERT_EQ(pwb_shutdown(), PWB_OK);
  Call refused;
  pwb_status returned = -1;
  pollwake::block_on(ConnectInsideExecutor{&refused, &returned});
  EXPECT_EQ(returned, PWB_WOULD_DEADLOCK);
  ASSERT_EQ(refused.completions(), 1) << "done runs before the refused call returns";
  EXPECT_EQ(refused.status(), PWB_WOULD_DEADLOCK) << refused.message();

  ASSERT_NE(ConnectOrZero("db-exec"), 0u);  // a runtime runs now
  Call accepted;
  pollwake::block_on(ConnectInsideExecutor{&accepted, &returned});
  EXPECT_EQ(returned, PWB_OK);
  ASSERT_TRUE(accepted.Wait()) << "watchdog: the connect never completed";
  EXPECT_EQ(accepted.status(), PWB_OK) << accepted.message();
}

TEST(HandleTableTest, ReusesASlotWithTheNextGenerationAndRefusesTheOld) {
  pollwake::bridge::HandleTable<int> t(4);
  auto h = t.Insert(std::make_shared<int>(1));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(*h, (uint64_t{1} << 32) | 1);
  ASSERT_TRUE(t.Remove(*h).ok());
  auto h2 = t.Insert(std::make_shared<int>(2));
  ASSERT_TRUE(h2.ok());
  EXPECT_EQ(*h2, (uint64_t{1} << 32) | 2);
  EXPECT_EQ(t.Lookup(*h).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(**t.Lookup(*h2), 2);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(t.Insert(std::make_shared<int>(i)).ok());
  EXPECT_EQ(t.Insert(std::make_shared<int>(9)).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(t.Clear().size(), 4u);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_FALSE(t.Lookup(*h2).ok());
}

// Each mistake the table detects, and the reason it gives; and what it
// cannot detect: a handle equal to a live one is that value's, whoever
// made it.
TEST(HandleTableTest, SaysWhichMistakeItSawAndCannotTellWhoAsks) {
  pollwake::bridge::HandleTable<int> t(4);
  auto reason = [&](uint64_t h) { return std::string(t.Lookup(h).status().message()); };
  auto first = t.Insert(std::make_shared<int>(1));
  ASSERT_TRUE(first.ok());
  EXPECT_NE(reason(0).find("the zero handle"), std::string::npos);
  EXPECT_NE(reason((uint64_t{2} << 32) | 1).find("ever opened"), std::string::npos);
  EXPECT_NE(reason(*first + 1).find("forged"), std::string::npos);
  ASSERT_TRUE(t.Remove(*first).ok());
  EXPECT_NE(reason(*first).find("closed"), std::string::npos) << "closed, slot empty";
  auto second = t.Insert(std::make_shared<int>(2));
  ASSERT_TRUE(second.ok());
  EXPECT_NE(reason(*first).find("closed"), std::string::npos) << "stale, slot reused";
  const uint64_t made_up = (uint64_t{1} << 32) | 2;  // never returned by Insert to this code
  ASSERT_TRUE(t.Lookup(made_up).ok());
  EXPECT_EQ(**t.Lookup(made_up), 2);
}

}  // namespace
