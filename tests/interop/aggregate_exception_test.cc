// tests/interop/aggregate_exception_test.cc: csharp::AggregateException.
#include "interop/csharp/aggregate_exception.h"

#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace pollwake::csharp {
namespace {

TEST(AggregateExceptionTest, KeepsInnerExceptionsInOrder) {
  AggregateException e({std::make_exception_ptr(std::runtime_error("first")),
                        std::make_exception_ptr(std::logic_error("second"))});
  ASSERT_EQ(e.InnerExceptions().size(), 2u);
  EXPECT_EQ(MessageOf(e.InnerExceptions()[0]), "first");
  EXPECT_EQ(MessageOf(e.InnerExceptions()[1]), "second");
  EXPECT_THROW(std::rethrow_exception(e.InnerExceptions()[1]), std::logic_error);
  EXPECT_STREQ(e.what(), "One or more errors occurred.");
}

TEST(AggregateExceptionTest, NullInnerExceptionIsRejected) {
  EXPECT_THROW(AggregateException({std::make_exception_ptr(1), nullptr}), std::invalid_argument);
}

TEST(AggregateExceptionTest, MessageOfANonStdException) {
  EXPECT_EQ(MessageOf(std::make_exception_ptr(42)), "(an exception that is not a std::exception)");
}

TEST(AggregateExceptionTest, EmptyIsAllowed) {
  AggregateException e({});
  EXPECT_TRUE(e.InnerExceptions().empty());
}

}  // namespace
}  // namespace pollwake::csharp
