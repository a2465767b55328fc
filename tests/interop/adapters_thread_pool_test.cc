// tests/interop/adapters_thread_pool_test.cc: spawn_as_task on pollwake's
// ThreadPool, awaited from C# (interop/csharp/bridge.h).
#include <atomic>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "executor/thread_pool.h"
#include "interop/csharp/bridge.h"
#include "interop/csharp/task.h"
#include "tests/interop/pump_util.h"

namespace pollwake::csharp {
namespace {

using testing::kDeadline;

struct Counts {
  std::atomic<int> polls{0};
};
// CountedFuture: Pending `pendings` times (waking itself), then Ready(value).
class CountedFuture {
 public:
  using Output = int;
  CountedFuture(std::shared_ptr<Counts> c, int pendings, int value)
      : c_(std::move(c)), pendings_(pendings), value_(value) {}
  Poll<int> poll(Context& cx) {
    c_->polls.fetch_add(1);
    if (pendings_-- > 0) {
      cx.waker().wake_by_ref();
      return Pending;
    }
    return Ready(value_);
  }

 private:
  std::shared_ptr<Counts> c_;
  int pendings_;
  int value_;
};

TEST(SpawnAsTaskTest, OnAThreadPoolTheTaskCompletesAndCSharpCanAwaitIt) {
  pollwake::ThreadPool pool = pollwake::ThreadPool::builder().pool_size(2).create();
  auto counts = std::make_shared<Counts>();
  Task<int> t = spawn_as_task(pool, CountedFuture(counts, 3, 11));
  std::atomic<int> resumed{0};
  auto awaiter = [](Task<int> t, std::atomic<int>* resumed) -> Task<int> {
    int v = co_await t;
    resumed->fetch_add(1);
    co_return v * 2;
  };
  Task<int> doubled = awaiter(t, &resumed);
  ASSERT_TRUE(doubled.Wait(kDeadline)) << "lost completion";
  EXPECT_EQ(doubled.GetResult(), 22);
  EXPECT_EQ(resumed.load(), 1);
  EXPECT_EQ(counts->polls.load(), 4);
}

TEST(SpawnAsTaskTest, ManyTasksOnAThreadPoolAllComplete) {
  constexpr int kTasks = 200;
  pollwake::ThreadPool pool = pollwake::ThreadPool::builder().pool_size(2).create();
  auto counts = std::make_shared<Counts>();
  std::vector<Task<int>> tasks;
  for (int i = 0; i < kTasks; ++i) tasks.push_back(spawn_as_task(pool, CountedFuture(counts, i % 3, i)));
  for (int i = 0; i < kTasks; ++i) {
    ASSERT_TRUE(tasks[i].Wait(kDeadline)) << "task " << i << " never completed";
    EXPECT_EQ(tasks[i].GetResult(), i);
  }
}

}  // namespace
}  // namespace pollwake::csharp
