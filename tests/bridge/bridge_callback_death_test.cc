// tests/bridge/bridge_callback_death_test.cc: BridgeCallbackDeathTest: a
// user callback that throws a C++ exception ends the process at the
// library's one noexcept boundary (CallUser in bridge.cc), with a message
// that names the rule, wherever the callback runs: a done on the runtime
// thread, a done on the caller's thread (a call refused at once), a scan's
// row (callback and blocking API). Never a status, never an exception
// unwinding into the caller.
//
// Each statement waits (bounded) for the process to end; if it does not,
// the statement returns and the death test fails instead of hanging.
#include <chrono>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "interop/bridge/pollwake_bridge.h"

namespace {

constexpr char kDoneThrew[] =
    "pollwake bridge: a done callback threw a C\\+\\+ exception; callbacks must not throw";
constexpr char kRowThrew[] =
    "pollwake bridge: a row callback threw a C\\+\\+ exception; callbacks must not throw";

void ThrowingDone(void*, pwb_status, const char*, uint64_t) {
  throw std::runtime_error("thrown by a done callback");
}
void ThrowingRow(void*, int64_t, const char*, size_t) {
  throw std::runtime_error("thrown by a row callback");
}
void IgnoreDone(void*, pwb_status, const char*, uint64_t) {}

// Long enough for any runtime thread to get to the callback; if the process
// is still alive afterwards, the statement returns and the test fails.
void WaitToBeTerminated() { std::this_thread::sleep_for(std::chrono::seconds(20)); }

pwb_conn ConnectWithOneRow() {
  pwb_conn c = 0;
  if (pwb_connect_blocking("death", 0, &c, nullptr, 0) != PWB_OK) return 0;
  const int64_t keys[] = {1};
  const char* values[] = {"one"};
  if (pwb_create_table_blocking(c, "t", nullptr, 0) != PWB_OK ||
      pwb_insert_blocking(c, "t", keys, values, 1, nullptr, nullptr, 0) != PWB_OK) {
    return 0;
  }
  return c;
}

TEST(BridgeCallbackDeathTest, DoneThatThrowsOnTheRuntimeThreadTerminates) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        if (pwb_ping(&ThrowingDone, nullptr) == PWB_OK) WaitToBeTerminated();
      },
      kDoneThrew);
}

TEST(BridgeCallbackDeathTest, DoneThatThrowsOnTheCallersThreadTerminates) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  // A NULL table: refused at once, so done runs on this thread, inside the
  // call, and the exception must not leave pwb_count.
  EXPECT_DEATH(
      {
        (void)pwb_count(1, nullptr, &ThrowingDone, nullptr);
        WaitToBeTerminated();
      },
      kDoneThrew);
}

TEST(BridgeCallbackDeathTest, RowThatThrowsDuringAScanTerminates) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        const pwb_conn c = ConnectWithOneRow();
        if (c != 0 && pwb_scan(c, "t", nullptr, &ThrowingRow, &IgnoreDone, nullptr) == PWB_OK) {
          WaitToBeTerminated();
        }
      },
      kRowThrew);
}

TEST(BridgeCallbackDeathTest, RowThatThrowsDuringABlockingScanTerminates) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        const pwb_conn c = ConnectWithOneRow();
        if (c != 0) (void)pwb_scan_blocking(c, "t", nullptr, &ThrowingRow, nullptr, nullptr,
                                            nullptr, 0);
        WaitToBeTerminated();
      },
      kRowThrew);
}

}  // namespace
