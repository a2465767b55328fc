// Reviewer scratch test: a wake BY VALUE from another thread hands its task
// reference to the remote stack, then push_remote keeps using
// task->shared (parker, remote_waker) with no reference of its own. If the
// pool is dropped in that window, LocalPoolShared (and the remote waker it
// owns) is freed under the waking thread.
#include <atomic>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>

#include <gtest/gtest.h>

#include "executor/local_pool.h"
#include "poll/arc.h"
#include "poll/context.h"
#include "poll/poll.h"
#include "poll/wake.h"
#include "poll/waker.h"

namespace pollwake {
namespace {

std::atomic<int> g_stage{0};
std::atomic<bool> g_destroyed{false};

// Stands in for LocalRuntime's RemoteWake: called by push_remote on the
// waking thread after the push. It lets the owner drop the pool, then
// touches its own state, as RemoteWake touches `core` (then the eventfd).
struct SlowRemoteWake {
  mutable std::atomic<int> touched{0};
  ~SlowRemoteWake() { g_destroyed.store(true); }
  void wake_by_ref() const {
    g_stage.store(1);
    while (g_stage.load() != 2) std::this_thread::yield();
    touched.fetch_add(1);  // *this belonged to the freed LocalPoolShared
  }
};

struct Parked {
  using Output = Unit;
  std::optional<Waker>* slot;
  Poll<Unit> poll(Context& cx) {
    slot->emplace(cx.waker());
    return Pending;
  }
};

void run(bool by_value) {
  g_stage = 0;
  g_destroyed = false;
  auto pool = std::make_unique<LocalPool>();
  pool->set_remote_waker(waker_from(Arc<SlowRemoteWake>::make()));
  std::optional<Waker> w;
  pool->spawner().spawn_local(Parked{&w});
  pool->run_until_stalled();
  ASSERT_TRUE(w.has_value());
  Waker taken = std::move(*w);
  w.reset();
  std::thread other([&] {
    if (by_value) {
      std::move(taken).wake();  // owned: the reference goes to the queue
    } else {
      taken.wake_by_ref();  // the caller keeps its reference during the push
    }
  });
  while (g_stage.load() != 1) std::this_thread::yield();
  fprintf(stderr, "stage1 reached, by_value=%d\n", by_value);
  pool.reset();  // the owner drops the pool meanwhile (e.g. ~LocalRuntime)
  const bool freed_under_waker = g_destroyed.load();
  g_stage.store(2);
  other.join();
  EXPECT_FALSE(freed_under_waker)
      << "LocalPoolShared (and its remote waker) was freed while push_remote was still using it";
}

TEST(ReviewScratch, WakeByRefFromAnotherThreadWhileThePoolIsDropped) { run(false); }
TEST(ReviewScratch, WakeByValueFromAnotherThreadWhileThePoolIsDropped) { run(true); }

}  // namespace
}  // namespace pollwake
