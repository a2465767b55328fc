// tests/poll/poll_test.cc: Poll<T> (Rust's std::task::Poll), Unit, and
// FuturePolledAfterCompletion from poll/poll.h.
#include "poll/poll.h"

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <gtest/gtest.h>

#include "poll/result.h"

namespace pollwake {
namespace {

// Compile-time facts: the variants convert as Rust's do.
static_assert(Poll<int>(Pending).is_pending());
static_assert(Poll<int>(Ready(1)).is_ready());
static_assert(Poll<int>(Ready(7)).value() == 7);
static_assert(std::is_convertible_v<PendingT, Poll<std::string>>);
static_assert(std::is_convertible_v<ReadyT<int>, Poll<long>>);
static_assert(!std::is_convertible_v<ReadyT<std::string>, Poll<int>>);
static_assert(std::is_same_v<decltype(Ready()), ReadyT<Unit>>);
static_assert(Unit{} == Unit{});

TEST(PollTest, PendingIsPendingAndNotReady) {
  Poll<int> p = Pending;
  EXPECT_TRUE(p.is_pending());
  EXPECT_FALSE(p.is_ready());
}

TEST(PollTest, ReadyHoldsItsValue) {
  Poll<std::string> p = Ready(std::string("done"));
  ASSERT_TRUE(p.is_ready());
  EXPECT_FALSE(p.is_pending());
  EXPECT_EQ(p.value(), "done");
}

TEST(PollTest, ReadyConvertsToAWiderValueType) {
  Poll<long> p = Ready(1);  // Ready(int) into Poll<long>, as `return Ready(1);`
  EXPECT_EQ(p.value(), 1L);
}

TEST(PollTest, ReadyWithoutArgumentIsUnit) {
  Poll<Unit> p = Ready();
  EXPECT_TRUE(p.is_ready());
  EXPECT_EQ(p.value(), Unit{});
}

TEST(PollTest, ValueOnPendingThrows) {
  Poll<int> p = Pending;
  EXPECT_THROW((void)p.value(), std::bad_optional_access);
}

TEST(PollTest, HoldsMoveOnlyValues) {
  Poll<std::unique_ptr<int>> p = Ready(std::make_unique<int>(5));
  std::unique_ptr<int> out = std::move(p).value();
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(*out, 5);
}

TEST(PollTest, MapTransformsTheReadyValue) {
  Poll<int> p = Ready(20);
  Poll<std::string> q = std::move(p).map([](int v) { return std::to_string(v + 1); });
  EXPECT_EQ(q.value(), "21");
}

TEST(PollTest, MapLeavesPendingAndDoesNotCallTheFunction) {
  int calls = 0;
  Poll<int> p = Pending;
  Poll<int> q = std::move(p).map([&](int v) {
    ++calls;
    return v;
  });
  EXPECT_TRUE(q.is_pending());
  EXPECT_EQ(calls, 0);
}

TEST(PollTest, MapOkMapsTheOkValueOfAReadyResult) {
  Poll<Result<int, std::string>> p = Ready(Result<int, std::string>(Ok(2)));
  auto q = std::move(p).map_ok([](int v) { return v * 10; });
  static_assert(std::is_same_v<decltype(q), Poll<Result<int, std::string>>>);
  EXPECT_EQ(q.value().value(), 20);
}

TEST(PollTest, MapOkLeavesAnErrAndPendingAlone) {
  int calls = 0;
  auto f = [&](int v) {
    ++calls;
    return v;
  };
  Poll<Result<int, std::string>> err = Ready(Result<int, std::string>(Err(std::string("no"))));
  auto mapped = std::move(err).map_ok(f);
  EXPECT_EQ(mapped.value().error(), "no");
  Poll<Result<int, std::string>> pending = Pending;
  EXPECT_TRUE(std::move(pending).map_ok(f).is_pending());
  EXPECT_EQ(calls, 0);
}

TEST(PollTest, MapErrMapsTheErrValueOfAReadyResult) {
  Poll<Result<int, int>> p = Ready(Result<int, int>(Err(3)));
  auto q = std::move(p).map_err([](int e) { return std::to_string(e); });
  static_assert(std::is_same_v<decltype(q), Poll<Result<int, std::string>>>);
  EXPECT_EQ(q.value().error(), "3");

  int calls = 0;
  Poll<Result<int, int>> ok = Ready(Result<int, int>(Ok(1)));
  auto kept = std::move(ok).map_err([&](int e) {
    ++calls;
    return e;
  });
  EXPECT_EQ(kept.value().value(), 1);
  Poll<Result<int, int>> pending = Pending;
  EXPECT_TRUE(std::move(pending).map_err([&](int e) {
                                  ++calls;
                                  return e;
                                })
                  .is_pending());
  EXPECT_EQ(calls, 0);
}

TEST(PollTest, EqualityComparesVariantThenValue) {
  EXPECT_EQ(Poll<int>(Pending), Poll<int>(Pending));
  EXPECT_EQ(Poll<int>(Ready(1)), Poll<int>(Ready(1)));
  EXPECT_NE(Poll<int>(Ready(1)), Poll<int>(Ready(2)));
  EXPECT_NE(Poll<int>(Ready(1)), Poll<int>(Pending));
}

TEST(FuturePolledAfterCompletionTest, IsALogicErrorNamingTheFuture) {
  try {
    polled_after_completion("my_future");
    FAIL() << "polled_after_completion returned";
  } catch (const std::logic_error& e) {  // FuturePolledAfterCompletion is one
    EXPECT_NE(std::string(e.what()).find("`my_future` polled after completion"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(polled_after_completion("x"), FuturePolledAfterCompletion);
}

}  // namespace
}  // namespace pollwake
