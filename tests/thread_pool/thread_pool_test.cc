// tests/thread_pool/thread_pool_test.cc: ThreadPool's API and its defined
// outcomes for misuse (executor/thread_pool.h).
#include "executor/thread_pool.h"

#include <pthread.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "executor/block_on.h"
#include "executor/enter.h"
#include "gtest/gtest.h"
#include "poll/ready.h"
#include "tests/support/deadline.h"
#include "tests/support/drive.h"
#include "tests/support/drop_counter.h"
#include "tests/support/gate.h"
#include "tests/support/latch.h"

namespace pollwake {
namespace {

using testing::DropCounter;
using testing::eventually;
using testing::Latch;
using testing::wait_output;
using testing::WakerSlot;

// A future that returns Pending forever and never arranges a wake: nobody
// will ever poll it again. `polled` counts its polls.
auto never_woken(std::atomic<int>& polled, std::atomic<int>& drops) {
  return poll_fn([&polled, counter = DropCounter(drops)](Context&) -> Poll<Unit> {
    polled.fetch_add(1);
    return Pending;
  });
}

TEST(ThreadPoolTest, SpawnOkRunsTheTask) {
  ThreadPool pool = ThreadPool::builder().pool_size(2).create();
  Latch done(100);
  for (int i = 0; i < 100; ++i) {
    pool.spawn_ok(poll_fn([&done](Context&) -> Poll<Unit> {
      done.count_down();
      return Ready();
    }));
  }
  ASSERT_TRUE(done.wait()) << "lost task: " << done.remaining() << " never ran";
}

TEST(ThreadPoolTest, SpawnIsLazyUntilAWorkerPollsIt) {
  std::atomic<int> polls{0};
  auto fut = poll_fn([&polls](Context&) -> Poll<int> {
    polls.fetch_add(1);
    return Ready(7);
  });
  EXPECT_EQ(polls.load(), 0);  // building a future runs nothing
  ThreadPool pool = ThreadPool::builder().pool_size(1).create();
  auto handle = pool.spawn_with_handle(std::move(fut));
  std::optional<int> out = wait_output(handle);
  ASSERT_TRUE(out.has_value()) << "lost wakeup: handle never completed";
  EXPECT_EQ(*out, 7);
  EXPECT_EQ(polls.load(), 1);
}

TEST(ThreadPoolTest, HandleReturnsTheOutput) {
  ThreadPool pool = ThreadPool::builder().pool_size(2).create();
  auto handle = pool.spawn_with_handle(ready(std::string("forty-two")));
  std::optional<std::string> out = wait_output(handle);
  ASSERT_TRUE(out.has_value()) << "lost wakeup: handle never completed";
  EXPECT_EQ(*out, "forty-two");
}

TEST(ThreadPoolTest, HandleRethrowsTaskException) {
  ThreadPool pool = ThreadPool::builder().pool_size(1).create();
  auto handle = pool.spawn_with_handle(poll_fn([](Context&) -> Poll<int> {
    throw std::runtime_error("boom in task");
  }));
  try {
    (void)wait_output(handle);
    FAIL() << "the handle did not re-raise the task's exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "boom in task");
  }
}

TEST(ThreadPoolTest, HandlePolledAfterCompletionThrows) {
  ThreadPool pool = ThreadPool::builder().pool_size(1).create();
  auto handle = pool.spawn_with_handle(ready(1));
  ASSERT_TRUE(wait_output(handle).has_value());
  EXPECT_THROW((void)wait_output(handle), FuturePolledAfterCompletion);
}

TEST(ThreadPoolTest, ExceptionDoesNotKillWorker) {
  std::atomic<int> reported{0};
  std::string message;
  std::mutex mu;
  ThreadPool pool = ThreadPool::builder()
                        .pool_size(1)  // one worker: if it died, nothing else would run
                        .panic_handler([&](std::exception_ptr e) {
                          try {
                            std::rethrow_exception(e);
                          } catch (const std::exception& ex) {
                            std::lock_guard lock(mu);
                            message = ex.what();
                          }
                          reported.fetch_add(1);
                        })
                        .create();
  std::atomic<int> drops{0};
  for (int i = 0; i < 3; ++i) {
    pool.spawn_ok(poll_fn([counter = DropCounter(drops)](Context&) -> Poll<Unit> {
      throw std::runtime_error("task panicked");
    }));
  }
  auto after = pool.spawn_with_handle(ready(5));
  std::optional<int> out = wait_output(after);
  ASSERT_TRUE(out.has_value()) << "the worker died with the exception";
  EXPECT_EQ(*out, 5);
  EXPECT_EQ(reported.load(), 3);
  EXPECT_EQ(drops.load(), 3);  // each throwing future was destroyed
  std::lock_guard lock(mu);
  EXPECT_EQ(message, "task panicked");
}

TEST(ThreadPoolTest, UnwokenTasksDestroyedAtShutdown) {
  std::atomic<int> polled{0};
  std::atomic<int> drops{0};
  {
    ThreadPool pool = ThreadPool::builder().pool_size(2).create();
    for (int i = 0; i < 50; ++i) pool.spawn_ok(never_woken(polled, drops));
    ASSERT_TRUE(eventually([&] { return polled.load() == 50; }))
        << "only " << polled.load() << " of 50 tasks were polled";
    EXPECT_EQ(drops.load(), 0);  // waiting for a wake that never comes
  }  // the last handle: workers joined, then the 50 tasks destroyed, here
  EXPECT_EQ(drops.load(), 50);
  EXPECT_EQ(polled.load(), 50);
}

TEST(ThreadPoolTest, HandleOfTaskDestroyedAtShutdownThrowsTaskCanceled) {
  std::atomic<int> polled{0};
  std::atomic<int> drops{0};
  std::optional<ThreadPoolHandle<Unit>> handle;
  {
    ThreadPool pool = ThreadPool::builder().pool_size(1).create();
    handle.emplace(pool.spawn_with_handle(never_woken(polled, drops)));
    ASSERT_TRUE(eventually([&] { return polled.load() == 1; }));
  }
  EXPECT_EQ(drops.load(), 1);
  EXPECT_THROW((void)wait_output(*handle), TaskCanceled);
}

TEST(ThreadPoolTest, CopiesShareOnePoolAndLastHandleJoinsWorkers) {
  std::atomic<int> started{0};
  std::atomic<int> stopped{0};
  std::optional<ThreadPool> copy;
  {
    ThreadPool pool = ThreadPool::builder()
                          .pool_size(3)
                          .after_start([&](std::size_t) { started.fetch_add(1); })
                          .before_stop([&](std::size_t) { stopped.fetch_add(1); })
                          .create();
    copy.emplace(pool);
    EXPECT_EQ(copy->pool_size(), 3u);
  }  // not the last handle: nothing stops
  auto handle = copy->spawn_with_handle(ready(3));
  ASSERT_TRUE(wait_output(handle).has_value()) << "the copy's pool stopped";
  EXPECT_EQ(stopped.load(), 0);
  copy.reset();  // the last handle: joins every worker before returning
  EXPECT_EQ(started.load(), 3);
  EXPECT_EQ(stopped.load(), 3);
}

TEST(ThreadPoolTest, LastHandleDroppedByItsOwnWorkerDoesNotJoinItself) {
  // The only handle travels into a task, which drops it while being polled.
  // That worker must not join itself: it joins the others, detaches itself,
  // and destroys the remaining tasks once its poll has returned.
  struct Lifetime {
    explicit Lifetime(std::atomic<bool>& g) : gone(&g) {}
    ~Lifetime() { gone->store(true); }
    std::atomic<bool>* gone;
  };
  std::atomic<bool> pool_freed{false};
  auto lifetime = std::make_shared<Lifetime>(pool_freed);
  std::atomic<int> stopped{0};
  std::atomic<int> polled{0};
  std::atomic<int> drops{0};
  std::atomic<int> dropper_drops{0};
  {
    ThreadPool pool = ThreadPool::builder()
                          .pool_size(2)
                          // The pool owns this callback; `lifetime` dies with it.
                          .before_stop([&stopped, lifetime](std::size_t) { stopped.fetch_add(1); })
                          .create();
    lifetime.reset();
    pool.spawn_ok(never_woken(polled, drops));
    ASSERT_TRUE(eventually([&] { return polled.load() == 1; }));
    auto slot = std::make_shared<std::optional<ThreadPool>>(pool);
    pool.spawn_ok(poll_fn([slot, counter = DropCounter(dropper_drops)](Context&) -> Poll<Unit> {
      slot->reset();  // the last handle goes, on a worker thread
      return Ready();
    }));
  }  // not the last handle: the task's copy is
  ASSERT_TRUE(eventually([&] { return pool_freed.load(); }))
      << "the pool was never freed (a worker joining itself would deadlock)";
  EXPECT_EQ(stopped.load(), 2);
  EXPECT_EQ(drops.load(), 1);          // the never-woken task was destroyed
  EXPECT_EQ(dropper_drops.load(), 1);  // and so was the finished one
}

TEST(ThreadPoolTest, BlockOnInsideTaskIsRefused) {
  ThreadPool pool = ThreadPool::builder().pool_size(1).create();
  auto handle = pool.spawn_with_handle(poll_fn([](Context&) -> Poll<std::string> {
    EXPECT_TRUE(is_entered());
    try {
      (void)block_on(ready(1));
      return Ready(std::string("block_on ran inside a task"));
    } catch (const EnterError& e) {
      return Ready(std::string("refused"));
    }
  }));
  std::optional<std::string> out = wait_output(handle);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, "refused");
}

TEST(ThreadPoolTest, TasksAwaitEachOthersHandles) {
  ThreadPool pool = ThreadPool::builder().pool_size(2).create();
  auto inner = pool.spawn_with_handle(ready(20));
  auto outer = pool.spawn_with_handle(
      poll_fn([inner = std::move(inner)](Context& cx) mutable -> Poll<int> {
        return inner.poll(cx).map([](int v) { return v + 1; });
      }));
  std::optional<int> out = wait_output(outer);
  ASSERT_TRUE(out.has_value()) << "lost wakeup between tasks";
  EXPECT_EQ(*out, 21);
}

TEST(ThreadPoolTest, SelfWakingTaskDoesNotStarveOthers) {
  // One worker; task A wakes itself on every poll until B has run. If A were
  // re-polled in place, B would never run and A would spin forever.
  ThreadPool pool = ThreadPool::builder().pool_size(1).create();
  auto b_ran = std::make_shared<std::atomic<bool>>(false);
  std::atomic<int> a_polls{0};
  auto a = pool.spawn_with_handle(poll_fn([b_ran, &a_polls](Context& cx) -> Poll<Unit> {
    a_polls.fetch_add(1);
    if (b_ran->load()) return Ready();
    cx.waker().wake_by_ref();
    return Pending;
  }));
  pool.spawn_ok(poll_fn([b_ran](Context&) -> Poll<Unit> {
    b_ran->store(true);
    return Ready();
  }));
  ASSERT_TRUE(wait_output(a).has_value()) << "B was starved by the self-waking A";
  EXPECT_GE(a_polls.load(), 2);
}

TEST(ThreadPoolTest, BuilderNamesThreadsAndPassesIndices) {
  std::mutex mu;
  std::set<std::string> names;
  std::set<std::size_t> started;
  std::set<std::size_t> stopped;
  {
    ThreadPool pool = ThreadPool::builder()
                          .pool_size(2)
                          .name_prefix("worker-")
                          .after_start([&](std::size_t i) {
                            char name[16] = {};
                            pthread_getname_np(pthread_self(), name, sizeof name);
                            std::lock_guard lock(mu);
                            names.insert(name);
                            started.insert(i);
                          })
                          .before_stop([&](std::size_t i) {
                            std::lock_guard lock(mu);
                            stopped.insert(i);
                          })
                          .create();
    ASSERT_TRUE(eventually([&] {
      std::lock_guard lock(mu);
      return started.size() == 2;
    }));
  }
  std::lock_guard lock(mu);
  EXPECT_EQ(names, (std::set<std::string>{"worker-0", "worker-1"}));
  EXPECT_EQ(started, (std::set<std::size_t>{0, 1}));
  EXPECT_EQ(stopped, (std::set<std::size_t>{0, 1}));
}

TEST(ThreadPoolTest, StackSizeIsApplied) {
  constexpr std::size_t kStack = 4 << 20;
  std::atomic<std::size_t> seen{0};
  {
    ThreadPool pool = ThreadPool::builder()
                          .pool_size(1)
                          .stack_size(kStack)
                          .after_start([&](std::size_t) {
                            pthread_attr_t attr;
                            std::size_t size = 0;
                            if (pthread_getattr_np(pthread_self(), &attr) == 0) {
                              pthread_attr_getstacksize(&attr, &size);
                              pthread_attr_destroy(&attr);
                            }
                            seen.store(size);
                          })
                          .create();
  }
  EXPECT_GE(seen.load(), kStack);
}

TEST(ThreadPoolTest, PoolSizeZeroIsRefused) {
  EXPECT_THROW(ThreadPool::builder().pool_size(0), std::invalid_argument);
}

TEST(ThreadPoolTest, SpawnOnMovedFromPoolThrows) {
  ThreadPool pool = ThreadPool::builder().pool_size(1).create();
  ThreadPool moved = std::move(pool);
  EXPECT_THROW(pool.spawn_ok(ready(Unit{})), std::logic_error);  // NOLINT: use after move is the test
  EXPECT_EQ(pool.pool_size(), 0u);
  EXPECT_EQ(moved.pool_size(), 1u);
}

TEST(ThreadPoolTest, DefaultPoolHasOneWorkerPerHardwareThread) {
  ThreadPool pool;
  unsigned hw = std::thread::hardware_concurrency();
  EXPECT_EQ(pool.pool_size(), hw == 0 ? 1u : hw);
  auto handle = pool.spawn_with_handle(ready(1));
  EXPECT_TRUE(wait_output(handle).has_value());
}

TEST(ThreadPoolTest, HookExceptionsGoToThePanicHandler) {
  std::atomic<int> reported{0};
  {
    ThreadPool pool = ThreadPool::builder()
                          .pool_size(2)
                          .after_start([](std::size_t) { throw std::runtime_error("start"); })
                          .before_stop([](std::size_t) { throw std::runtime_error("stop"); })
                          .panic_handler([&](std::exception_ptr) { reported.fetch_add(1); })
                          .create();
    auto handle = pool.spawn_with_handle(ready(1));
    ASSERT_TRUE(wait_output(handle).has_value()) << "a throwing after_start killed a worker";
  }
  EXPECT_EQ(reported.load(), 4);
}

}  // namespace
}  // namespace pollwake
