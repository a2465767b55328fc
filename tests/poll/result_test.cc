// tests/poll/result_test.cc: Result<T, E> (Rust's Result) from poll/result.h.
#include "poll/result.h"

#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <gtest/gtest.h>

namespace pollwake {
namespace {

static_assert(Result<int, std::string>(Ok(1)).is_ok());
static_assert(Result<int, int>(Err(1)).is_err());
static_assert(std::is_convertible_v<OkT<int>, Result<long, std::string>>);
static_assert(std::is_convertible_v<ErrT<const char*>, Result<int, std::string>>);
static_assert(std::is_base_of_v<std::logic_error, BadResultAccess>);

TEST(ResultTest, OkIsOkAndHoldsItsValue) {
  Result<int, std::string> r = Ok(4);
  EXPECT_TRUE(r.is_ok());
  EXPECT_FALSE(r.is_err());
  EXPECT_EQ(r.value(), 4);
}

TEST(ResultTest, ErrIsErrAndHoldsItsError) {
  Result<int, std::string> r = Err(std::string("boom"));
  EXPECT_TRUE(r.is_err());
  EXPECT_FALSE(r.is_ok());
  EXPECT_EQ(r.error(), "boom");
}

TEST(ResultTest, ValueOnErrThrowsAsUnwrapPanics) {
  Result<int, std::string> r = Err(std::string("boom"));
  EXPECT_THROW((void)r.value(), BadResultAccess);
  EXPECT_THROW((void)std::move(r).value(), BadResultAccess);
}

TEST(ResultTest, ErrorOnOkThrowsAsUnwrapErrPanics) {
  Result<int, std::string> r = Ok(1);
  EXPECT_THROW((void)r.error(), BadResultAccess);
}

TEST(ResultTest, SameTypeForOkAndErrKeepsTheVariantApart) {
  Result<int, int> ok = Ok(1);
  Result<int, int> err = Err(1);
  EXPECT_TRUE(ok.is_ok());
  EXPECT_TRUE(err.is_err());
  EXPECT_NE(ok, err);  // same payload, different variant
}

TEST(ResultTest, MapMapsOkAndLeavesErrWithoutCallingTheFunction) {
  int calls = 0;
  auto twice = [&](int v) {
    ++calls;
    return std::to_string(v * 2);
  };
  Result<int, std::string> ok = Ok(21);
  Result<std::string, std::string> mapped = std::move(ok).map(twice);
  EXPECT_EQ(mapped.value(), "42");
  EXPECT_EQ(calls, 1);

  Result<int, std::string> err = Err(std::string("e"));
  Result<std::string, std::string> kept = std::move(err).map(twice);
  EXPECT_EQ(kept.error(), "e");
  EXPECT_EQ(calls, 1);
}

TEST(ResultTest, MapErrMapsErrAndLeavesOkWithoutCallingTheFunction) {
  int calls = 0;
  auto describe = [&](int e) {
    ++calls;
    return "code " + std::to_string(e);
  };
  Result<int, int> err = Err(7);
  Result<int, std::string> mapped = std::move(err).map_err(describe);
  EXPECT_EQ(mapped.error(), "code 7");
  Result<int, int> ok = Ok(1);
  Result<int, std::string> kept = std::move(ok).map_err(describe);
  EXPECT_EQ(kept.value(), 1);
  EXPECT_EQ(calls, 1);
}

TEST(ResultTest, HoldsMoveOnlyValues) {
  Result<std::unique_ptr<int>, std::string> r = Ok(std::make_unique<int>(3));
  std::unique_ptr<int> v = std::move(r).value();
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(*v, 3);
}

TEST(ResultTest, EqualityComparesVariantThenValue) {
  using R = Result<int, std::string>;
  EXPECT_EQ(R(Ok(1)), R(Ok(1)));
  EXPECT_NE(R(Ok(1)), R(Ok(2)));
  EXPECT_EQ(R(Err(std::string("a"))), R(Err(std::string("a"))));
  EXPECT_NE(R(Ok(1)), R(Err(std::string("a"))));
}

}  // namespace
}  // namespace pollwake
