// tests/executor/join_handle_test.cc: JoinHandleTest, the rules both pools'
// handles share (one join slot, executor/detail/join_slot.h) and the one
// rule in which they differ (docs/guarantees.md, "Task handles"), each
// checked on a RemoteHandle (LocalPool) and a ThreadPoolHandle (ThreadPool).
#include <atomic>
#include <memory>
#include <optional>
#include <stdexcept>

#include "executor/local_pool.h"
#include "executor/thread_pool.h"
#include "gtest/gtest.h"
#include "poll/ready.h"
#include "tests/support/counting_waker.h"
#include "tests/support/deadline.h"
#include "tests/support/drive.h"
#include "tests/support/gate.h"

namespace pollwake {
namespace {

using testing::CountingWaker;
using testing::eventually;
using testing::Gate;
using testing::GateFuture;
using testing::wait_output;

// A future that throws at its first poll.
auto thrower() {
  return poll_fn([](Context&) -> Poll<int> { throw std::runtime_error("task failed"); });
}

TEST(JoinHandleTest, TheTaskExceptionIsRethrownOnceByEitherHandle) {
  {
    LocalPool pool;
    RemoteHandle<int> handle = pool.spawner().spawn_local_with_handle(thrower());
    pool.run_until_stalled();
    CountingWaker w;
    Context cx = Context::from_waker(w.waker());
    EXPECT_THROW((void)handle.poll(cx), std::runtime_error);
    EXPECT_THROW((void)handle.poll(cx), FuturePolledAfterCompletion);
  }
  {
    ThreadPool pool = ThreadPool::builder().pool_size(1).create();
    ThreadPoolHandle<int> handle = pool.spawn_with_handle(thrower());
    EXPECT_THROW((void)wait_output(handle), std::runtime_error);
    EXPECT_THROW((void)wait_output(handle), FuturePolledAfterCompletion);
  }
}

// A handle that goes away gives back the waker its last Pending poll kept,
// at once (with a waker that is still alive, a detached or cancelled task
// would keep the awaiting task alive). Before both pools used one join
// slot, a dropped RemoteHandle kept its waker until the pool freed the task.
TEST(JoinHandleTest, ADroppedHandleReleasesItsWakerAtOnceInBothPools) {
  auto gate = std::make_shared<Gate>();
  CountingWaker w;
  Context cx = Context::from_waker(w.waker());
  {
    LocalPool pool;
    std::optional<RemoteHandle<Unit>> handle(
        pool.spawner().spawn_local_with_handle(GateFuture<>(gate)));
    EXPECT_TRUE(handle->poll(cx).is_pending());
    EXPECT_EQ(w.live(), 1);  // the handle keeps a clone
    handle.reset();          // cancels; the pool has not run since
    EXPECT_EQ(w.live(), 0);
  }
  {
    ThreadPool pool = ThreadPool::builder().pool_size(1).create();
    std::optional<ThreadPoolHandle<Unit>> handle(
        pool.spawn_with_handle(GateFuture<>(gate)));
    EXPECT_TRUE(handle->poll(cx).is_pending());
    EXPECT_EQ(w.live(), 1);
    handle.reset();  // detaches; the task is still pending
    EXPECT_EQ(w.live(), 0);
  }
}

// The one difference: a dropped RemoteHandle cancels its task (dropped
// unpolled at the pool's next run); a dropped ThreadPoolHandle detaches it
// (it runs on when woken; its output is dropped).
TEST(JoinHandleTest, DroppingCancelsALocalTaskAndDetachesAThreadPoolTask) {
  {
    auto gate = std::make_shared<Gate>();
    LocalPool pool;
    std::optional<RemoteHandle<Unit>> handle(
        pool.spawner().spawn_local_with_handle(GateFuture<>(gate)));
    pool.run_until_stalled();
    EXPECT_EQ(gate->polls.load(), 1);
    handle.reset();
    gate->open_and_wake();
    pool.run();  // returns: the task was dropped, not polled again
    EXPECT_EQ(gate->polls.load(), 1);
    EXPECT_EQ(gate->drops.load(), 1);
  }
  {
    auto gate = std::make_shared<Gate>();
    ThreadPool pool = ThreadPool::builder().pool_size(1).create();
    std::optional<ThreadPoolHandle<Unit>> handle(
        pool.spawn_with_handle(GateFuture<>(gate)));
    ASSERT_TRUE(eventually([&] { return gate->waker.has_waker(); }));
    handle.reset();
    gate->open_and_wake();
    // The detached task is polled again and finishes: its future is dropped.
    ASSERT_TRUE(eventually([&] { return gate->drops.load() == 1; }));
    EXPECT_EQ(gate->polls.load(), 2);
  }
}

}  // namespace
}  // namespace pollwake
