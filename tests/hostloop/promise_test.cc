// tests/hostloop/promise_test.cc: PromiseTest, the future a host settles:
// resolve/reject from any thread, first settlement wins, cancellation.
#include "interop/hostloop/promise.h"

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "interop/coro/async_fn.h"
#include "interop/hostloop/host_executor.h"
#include "poll/box_future.h"
#include "poll/wake.h"
#include "tests/hostloop/host_support.h"

namespace pollwake::hostloop {
namespace {

using testing::FakeHost;

// A waker that counts its wakes (wake and wake_by_ref), for polling by hand.
struct CountingWake {
  mutable std::atomic<int> wakes{0};
  void wake_by_ref() const { wakes.fetch_add(1); }
};

TEST(PromiseTest, ResolveBeforePollIsReadyAtOnce) {
  auto [promise, resolver] = make_promise<int>();
  EXPECT_TRUE(resolver.resolve(7));
  Context cx = Context::from_waker(Waker::noop());
  Poll<absl::StatusOr<int>> p = promise.poll(cx);
  ASSERT_TRUE(p.is_ready());
  EXPECT_EQ(*p.value(), 7);
}

TEST(PromiseTest, ResolveAfterPendingWakesTheLatestWaker) {
  auto [promise, resolver] = make_promise<int>();
  auto first = Arc<CountingWake>::make();
  auto second = Arc<CountingWake>::make();
  {
    WakerRef w = waker_ref(first);
    Context cx = Context::from_waker(w);
    EXPECT_TRUE(promise.poll(cx).is_pending());
  }
  WakerRef w2 = waker_ref(second);
  Context cx2 = Context::from_waker(w2);
  EXPECT_TRUE(promise.poll(cx2).is_pending());
  EXPECT_TRUE(resolver.is_awaited());
  EXPECT_TRUE(resolver.resolve(1));
  EXPECT_EQ(first->wakes.load(), 0);
  EXPECT_EQ(second->wakes.load(), 1);
  EXPECT_FALSE(resolver.is_awaited());
  EXPECT_TRUE(promise.poll(cx2).is_ready());
}

TEST(PromiseTest, RejectGivesTheError) {
  auto [promise, resolver] = make_promise<int>();
  EXPECT_TRUE(resolver.reject(absl::NotFoundError("no such thing")));
  Context cx = Context::from_waker(Waker::noop());
  Poll<absl::StatusOr<int>> p = promise.poll(cx);
  ASSERT_TRUE(p.is_ready());
  EXPECT_EQ(p.value().status().code(), absl::StatusCode::kNotFound);
}

TEST(PromiseTest, RejectWithOkStatusThrows) {
  auto [promise, resolver] = make_promise<int>();
  EXPECT_THROW(resolver.reject(absl::OkStatus()), std::invalid_argument);
}

TEST(PromiseTest, FirstSettlementWins) {
  auto [promise, resolver] = make_promise<int>();
  EXPECT_TRUE(resolver.resolve(1));
  EXPECT_FALSE(resolver.resolve(2));
  EXPECT_FALSE(resolver.reject(absl::AbortedError("late")));
  Context cx = Context::from_waker(Waker::noop());
  EXPECT_EQ(*promise.poll(cx).value(), 1);
}

TEST(PromiseTest, PollAfterReadyThrows) {
  auto [promise, resolver] = make_promise<int>();
  resolver.resolve(1);
  Context cx = Context::from_waker(Waker::noop());
  (void)promise.poll(cx);
  EXPECT_THROW((void)promise.poll(cx), FuturePolledAfterCompletion);
}

TEST(PromiseTest, DroppingTheUnsettledPromiseCallsCancelOnce) {
  int cancels = 0;
  auto pair = make_promise<int>([&] { ++cancels; });
  Resolver<int> resolver = std::move(pair.second);
  { Promise<int> dropped = std::move(pair.first); }
  { Promise<int> moved_from = std::move(pair.first); }  // pair.first was moved: no second call
  EXPECT_EQ(cancels, 1);
  EXPECT_TRUE(resolver.is_canceled());
  EXPECT_FALSE(resolver.resolve(3));
}

TEST(PromiseTest, DroppingASettledPromiseDoesNotCancel) {
  int cancels = 0;
  auto pair = make_promise<int>([&] { ++cancels; });
  Resolver<int> resolver = std::move(pair.second);
  resolver.resolve(1);
  { Promise<int> dropped = std::move(pair.first); }
  EXPECT_EQ(cancels, 0);
  EXPECT_FALSE(resolver.is_canceled());
}

TEST(PromiseTest, DroppingTheResolverRejectsWithCancelled) {
  auto pair = make_promise<int>();
  Promise<int> promise = std::move(pair.first);
  { Resolver<int> dropped = std::move(pair.second); }
  Context cx = Context::from_waker(Waker::noop());
  Poll<absl::StatusOr<int>> p = promise.poll(cx);
  ASSERT_TRUE(p.is_ready());
  EXPECT_EQ(p.value().status().code(), absl::StatusCode::kCancelled);
}

TEST(PromiseTest, ResolverUsedAfterMoveThrows) {
  auto pair = make_promise<int>();
  Resolver<int> r = std::move(pair.second);
  EXPECT_THROW(pair.second.resolve(1), std::logic_error);
}

coro::Async<> AwaitInto(Promise<int> p, absl::StatusOr<int>* out) {
  *out = co_await std::move(p);
}

// [START hostloop_promise_thread_test]
TEST(PromiseTest, ResolvedFromAnotherThreadWakesTheHostTask) {
  FakeHost host;
  HostExecutor ex([&] { host.notify(); });
  auto [promise, resolver] = make_promise<int>();
  absl::StatusOr<int> got = absl::UnknownError("not yet");
  ex.spawn_local(boxed_local(AwaitInto(std::move(promise), &got)));
  ASSERT_TRUE(host.wait_for_notification());
  ex.run_ready();  // the task awaits: Pending
  ASSERT_TRUE(resolver.is_awaited());
  std::thread([r = std::move(resolver)]() mutable { r.resolve(42); }).join();
  ASSERT_TRUE(host.wait_for_notification()) << "lost wakeup";
  ex.run_ready();
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, 42);
  EXPECT_EQ(ex.live_tasks(), 0u);
}
// [END hostloop_promise_thread_test]

}  // namespace
}  // namespace pollwake::hostloop
