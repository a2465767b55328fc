// tests/poll/poisoned_test.cc: FuturePolledAfterPanic (poll/poll.h) and the
// poisoned state of a hand-written state machine.
//
// rustc's generated future, when a panic unwinds out of its poll, drops the
// locals of the state it was in and becomes "poisoned"; polled again it
// panics with "`async fn` resumed after panicking". pollwake's hand-written
// machines model it (examples/07_early_return.cc; its trace is compared with
// real rustc by //tests/oracles:rust_oracle_test). This file checks the
// pattern on a minimal machine, `async fn f() -> int { let g = Guard;
// leaf.await }`, whose leaf may throw.
#include <atomic>
#include <stdexcept>
#include <string>
#include <variant>

#include <gtest/gtest.h>

#include "poll/context.h"
#include "poll/poll.h"
#include "tests/support/counting_waker.h"
#include "tests/support/drop_counter.h"

namespace pollwake {
namespace {

using testing::CountingWaker;
using testing::DropCounter;

// Pending once, then Ready(7), or throws on its second poll if told to.
struct Leaf {
  bool throws;
  bool polled = false;
  DropCounter drops;
  Poll<int> poll(Context&) {
    if (!polled) {
      polled = true;
      return Pending;
    }
    if (throws) throw std::runtime_error("leaf failed");
    return Ready(7);
  }
};

struct NeverPolled {
  bool leaf_throws;
  std::atomic<int>* leaf_drops;
  std::atomic<int>* guard_drops;
};
struct Awaiting {
  DropCounter guard;  // `g` lives across the await
  Leaf leaf;          // the future being awaited
};
struct Finished {};
struct Poisoned {};

// The pattern of examples/07_early_return.cc.
class Machine {
 public:
  using Output = int;
  Machine(bool leaf_throws, std::atomic<int>& leaf_drops, std::atomic<int>& guard_drops)
      : state_(NeverPolled{leaf_throws, &leaf_drops, &guard_drops}) {}

  Poll<int> poll(Context& cx) {
    if (std::holds_alternative<Finished>(state_)) polled_after_completion("f");
    if (std::holds_alternative<Poisoned>(state_)) polled_after_panic("f");
    try {
      return resume(cx);
    } catch (...) {
      state_.emplace<Poisoned>();
      throw;
    }
  }
  bool poisoned() const { return std::holds_alternative<Poisoned>(state_); }

 private:
  Poll<int> resume(Context& cx) {
    if (auto* s = std::get_if<NeverPolled>(&state_)) {
      NeverPolled args = *s;
      state_.emplace<Awaiting>(Awaiting{DropCounter(args.guard_drops),
                                        Leaf{args.leaf_throws, false, DropCounter(args.leaf_drops)}});
    }
    auto& a = std::get<Awaiting>(state_);
    Poll<int> p = a.leaf.poll(cx);
    if (p.is_pending()) return Pending;
    state_.emplace<Finished>();
    return p;
  }

  std::variant<NeverPolled, Awaiting, Finished, Poisoned> state_;
};

TEST(FuturePolledAfterPanicTest, IsALogicErrorQuotingRustsPanic) {
  try {
    polled_after_panic("my_future");
    FAIL() << "polled_after_panic returned";
  } catch (const std::logic_error& e) {  // FuturePolledAfterPanic is one
    const std::string what = e.what();
    EXPECT_NE(what.find("`my_future` polled after an exception escaped its poll"), std::string::npos)
        << what;
    EXPECT_NE(what.find("(Rust: `async fn` resumed after panicking)"), std::string::npos) << what;
  }
  EXPECT_THROW(polled_after_panic("x"), FuturePolledAfterPanic);
}

TEST(PoisonedMachineTest, ExceptionEscapingAPollDestroysTheStateAndPoisons) {
  std::atomic<int> leaf_drops{0}, guard_drops{0};
  CountingWaker w;
  Context cx = Context::from_waker(w.waker());
  Machine m(/*leaf_throws=*/true, leaf_drops, guard_drops);
  EXPECT_TRUE(m.poll(cx).is_pending());
  EXPECT_EQ(leaf_drops.load(), 0);
  EXPECT_THROW((void)m.poll(cx), std::runtime_error);  // the leaf's own exception passes through
  EXPECT_TRUE(m.poisoned());
  EXPECT_EQ(leaf_drops.load(), 1);   // the awaited future and the local
  EXPECT_EQ(guard_drops.load(), 1);  // were destroyed on the way out
}

TEST(PoisonedMachineTest, PollAfterPanicThrowsEveryTime) {
  std::atomic<int> leaf_drops{0}, guard_drops{0};
  CountingWaker w;
  Context cx = Context::from_waker(w.waker());
  Machine m(true, leaf_drops, guard_drops);
  (void)m.poll(cx);
  EXPECT_THROW((void)m.poll(cx), std::runtime_error);
  EXPECT_THROW((void)m.poll(cx), FuturePolledAfterPanic);
  EXPECT_THROW((void)m.poll(cx), FuturePolledAfterPanic);  // stays poisoned
  EXPECT_TRUE(m.poisoned());
  EXPECT_EQ(leaf_drops.load() + guard_drops.load(), 2);  // nothing destroyed twice
}

TEST(PoisonedMachineTest, ANormalRunEndsFinishedNotPoisoned) {
  std::atomic<int> leaf_drops{0}, guard_drops{0};
  CountingWaker w;
  Context cx = Context::from_waker(w.waker());
  Machine m(/*leaf_throws=*/false, leaf_drops, guard_drops);
  EXPECT_TRUE(m.poll(cx).is_pending());
  Poll<int> p = m.poll(cx);
  ASSERT_TRUE(p.is_ready());
  EXPECT_EQ(p.value(), 7);
  EXPECT_FALSE(m.poisoned());
  EXPECT_THROW((void)m.poll(cx), FuturePolledAfterCompletion);  // not FuturePolledAfterPanic
  EXPECT_FALSE(m.poisoned());  // polling a finished machine does not poison it
}

}  // namespace
}  // namespace pollwake
