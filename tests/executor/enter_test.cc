// tests/executor/enter_test.cc: the per-thread enter guard (futures-rs enter()).
#include "executor/enter.h"

#include <stdexcept>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace pollwake {
namespace {

TEST(EnterTest, GuardSetsAndClearsTheFlag) {
  EXPECT_FALSE(is_entered());
  {
    Enter guard = enter();
    EXPECT_TRUE(is_entered());
  }
  EXPECT_FALSE(is_entered());
}

TEST(EnterTest, NestedEnterThrowsEnterErrorThatSaysWhy) {
  Enter guard = enter();
  try {
    Enter inner = enter();
    FAIL() << "a nested enter() must throw";
  } catch (const EnterError& e) {
    EXPECT_NE(std::string(e.what()).find("from within another executor"), std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(is_entered()) << "a refused enter() must not clear the outer guard's flag";
}

TEST(EnterTest, EnterErrorIsALogicError) {
  Enter guard = enter();
  EXPECT_THROW(enter(), std::logic_error);
}

TEST(EnterTest, FlagIsPerThread) {
  Enter guard = enter();
  bool other_entered = true;
  bool other_could_enter = false;
  std::thread t([&] {
    other_entered = is_entered();
    Enter g = enter();
    other_could_enter = is_entered();
  });
  t.join();
  EXPECT_FALSE(other_entered);
  EXPECT_TRUE(other_could_enter);
  EXPECT_TRUE(is_entered());
}

TEST(EnterTest, GuardClearsTheFlagWhenUnwinding) {
  try {
    Enter guard = enter();
    throw std::runtime_error("boom");
  } catch (const std::runtime_error&) {
  }
  EXPECT_FALSE(is_entered());
  Enter again = enter();  // usable again
  EXPECT_TRUE(is_entered());
}

}  // namespace
}  // namespace pollwake
