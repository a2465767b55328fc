// tests/record/hooks_test.cc: the executors' recorder hooks in both build
// states. Default build: every hook expands to nothing but the statement it
// wraps (so the executors are the code they would be without the recorder),
// and attaching a recorder records nothing. `--config=record`: spawns on an
// attached executor are recorded with the caller's location, an executor
// with no recorder attached records nothing, parks and coalesced wakes are
// noted.

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "executor/block_on.h"
#include "executor/local_pool.h"
#include "executor/record/hooks.h"
#include "executor/record/recorder.h"
#include "executor/thread_pool.h"
#include "gtest/gtest.h"
#include "poll/ready.h"
#include "tests/support/gate.h"
#include "tests/support/watchdog.h"

#define HOOKS_TEST_STR2(...) #__VA_ARGS__
#define HOOKS_TEST_STR(...) HOOKS_TEST_STR2(__VA_ARGS__)

namespace pollwake::record {
namespace {

// A clock that advances 1 us per reading: traces stay ordered, and no poll
// looks long however slow the machine (sanitizers) is.
inline RecorderOptions ticking(RecorderOptions o = {}) {
  auto now = std::make_shared<std::atomic<std::uint64_t>>(0);
  o.clock = [now] { return now->fetch_add(1000) + 1000; };
  return o;
}

int count_kind(const Recorder& rec, EventKind kind) {
  int n = 0;
  for (const Event& e : rec.events()) n += e.kind == kind;
  return n;
}

#if !(defined(POLLWAKE_RECORD) && POLLWAKE_RECORD)

TEST(RecorderHooksTest, CompiledOutHooksAreOnlyTheWrappedStatement) {
  EXPECT_STREQ(HOOKS_TEST_STR(POLLWAKE_RECORD_WHERE), "");
  EXPECT_STREQ(HOOKS_TEST_STR(POLLWAKE_RECORD_PARKED(this, parker.park())), "parker.park()");
  EXPECT_STREQ(HOOKS_TEST_STR(POLLWAKE_RECORD_SPAWN(key, spawn, f)), "static_assert(true)");
  EXPECT_STREQ(HOOKS_TEST_STR(POLLWAKE_RECORD_RUN(key, run, f)), "static_assert(true)");
  EXPECT_STREQ(HOOKS_TEST_STR(POLLWAKE_RECORD_ALREADY_QUEUED()), "static_cast<void>(0)");
  EXPECT_STREQ(HOOKS_TEST_STR(POLLWAKE_RECORD_KEY_MEMBER(p)), "static_assert(true)");
}

TEST(RecorderHooksTest, CompiledOutAttachRecordsNothing) {
  Recorder rec(ticking());
  LocalPool pool;
  rec.attach_to(pool);
  pool.spawner().spawn_local(poll_fn([](Context&) -> Poll<Unit> { return Ready(); }));
  pool.run();
  EXPECT_TRUE(rec.events().empty());
  // Explicit wrapping works in every build.
  pool.spawner().spawn_local(rec.wrap(poll_fn([](Context&) -> Poll<Unit> { return Ready(); })));
  pool.run();
  EXPECT_EQ(count_kind(rec, EventKind::kPoll), 1);
}

#else

TEST(RecorderHooksTest, AttachedLocalPoolRecordsSpawnsWithTheirLocation) {
  Recorder rec(ticking());
  {
    // [START attach]
    LocalPool pool;
    rec.attach_to(pool);  // from here on, every spawn on `pool` is recorded
    // [END attach]
    auto gate = std::make_shared<testing::Gate>();
    int line = __LINE__ + 1;
    pool.spawner().spawn_local(testing::GateFuture<>(gate));
    RemoteHandle<int> h = pool.spawner().spawn_local_with_handle(
        poll_fn([](Context&) -> Poll<int> { return Ready(7); }));
    pool.run_until_stalled();
    // Woken twice before it runs: the second wake finds it queued.
    std::optional<Waker> w = gate->clone_waker();
    ASSERT_TRUE(w.has_value());
    w->wake_by_ref();
    gate->open_and_wake();
    EXPECT_EQ(pool.run_until(std::move(h)), 7);
    pool.run();
    std::vector<Event> evs = rec.events();
    int queued = 0;
    for (const Event& e : evs) queued += e.already_queued;
    EXPECT_EQ(queued, 1);
    std::string json = rec.chrome_trace_json();
    EXPECT_NE(json.find("hooks_test.cc:" + std::to_string(line)), std::string::npos) << json;
    rec.detach(&pool);
  }
  EXPECT_EQ(count_kind(rec, EventKind::kSpawn), 3);  // two spawns and run_until's future
  EXPECT_TRUE(rec.lints().empty()) << rec.lint_report();
}

TEST(RecorderHooksTest, UnattachedExecutorRecordsNothing) {
  Recorder rec(ticking());
  LocalPool recorded, plain;
  rec.attach_to(recorded);
  plain.spawner().spawn_local(poll_fn([](Context&) -> Poll<Unit> { return Ready(); }));
  plain.run();
  EXPECT_TRUE(rec.events().empty());
  recorded.spawner().spawn_local(poll_fn([](Context&) -> Poll<Unit> { return Ready(); }));
  recorded.run();
  EXPECT_EQ(count_kind(rec, EventKind::kPoll), 1);
}

TEST(RecorderHooksTest, LocalPoolRunRecordsItsPark) {
  testing::Watchdog dog("recorded park");
  Recorder rec(ticking());
  LocalPool pool;
  rec.attach_to(pool);
  auto gate = std::make_shared<testing::Gate>();
  pool.spawner().spawn_local(testing::GateFuture<>(gate));
  std::atomic<bool> polled{true};
  std::thread opener([&] {
    polled = gate->wait_for_waker();  // bounded; opens the gate either way
    gate->open_and_wake();
  });
  pool.run();  // sleeps until the other thread's wake
  opener.join();
  EXPECT_TRUE(polled.load()) << "the task was not polled within the deadline";
  EXPECT_GE(count_kind(rec, EventKind::kPark), 1);
}

TEST(RecorderHooksTest, ThreadPoolCopiesShareTheRecorder) {
  testing::Watchdog dog("recorded ThreadPool");
  Recorder rec(ticking());
  {
    ThreadPool pool = ThreadPool::builder().pool_size(1).create();
    rec.attach_to(pool);
    ThreadPool copy = pool;  // same pool, another handle
    int v = block_on(copy.spawn_with_handle(poll_fn([](Context&) -> Poll<int> { return Ready(3); })));
    EXPECT_EQ(v, 3);
  }
  EXPECT_EQ(count_kind(rec, EventKind::kSpawn), 1);
  EXPECT_EQ(count_kind(rec, EventKind::kComplete), 1);
}

// A future that counts its own polls (so a test sees whether the caller's
// object, or a copy of it, was polled).
struct CountsPolls {
  using Output = int;
  int polls = 0;
  Poll<int> poll(Context& cx) {
    if (++polls < 2) {
      cx.waker().wake_by_ref();
      return Pending;
    }
    return Ready(polls);
  }
};

// Spawning a named future spawns a copy of it: recorded like any spawn.
TEST(RecorderHooksTest, LvalueSpawnsAreRecorded) {
  testing::Watchdog dog("recorded lvalue spawns");
  Recorder rec(ticking());
  CountsPolls named;
  {
    LocalPool pool;
    rec.attach_to(pool);
    pool.spawner().spawn_local(named);
    RemoteHandle<int> h = pool.spawner().spawn_local_with_handle(named);
    EXPECT_EQ(pool.run_until(std::move(h)), 2);
    pool.run();
    rec.detach(&pool);
  }
  {
    ThreadPool pool = ThreadPool::builder().pool_size(1).create();
    rec.attach_to(pool);
    pool.spawn_ok(named);
    EXPECT_EQ(block_on(pool.spawn_with_handle(named)), 2);
    rec.detach(pool.recorder_key());
  }
  EXPECT_EQ(named.polls, 0);  // copies were spawned, as without the recorder
  // Four spawned copies and run_until's handle (block_on is not attached).
  EXPECT_EQ(count_kind(rec, EventKind::kSpawn), 5);
  // spawn_ok's copy may be destroyed unpolled by the pool's shutdown.
  EXPECT_EQ(count_kind(rec, EventKind::kComplete) + count_kind(rec, EventKind::kCancel), 5);
  EXPECT_TRUE(rec.lints().empty()) << rec.lint_report();
}

// run_until and block_on poll a named future where it is: recorded, and
// still polled in place.
TEST(RecorderHooksTest, RunUntilAndBlockOnRecordLvaluesInPlace) {
  Recorder rec(ticking());
  CountsPolls a, b;
  {
    LocalPool pool;
    rec.attach_to(pool);
    EXPECT_EQ(pool.run_until(a), 2);
    rec.detach(&pool);
  }
  rec.attach(nullptr);
  EXPECT_EQ(block_on(b), 2);
  rec.detach(nullptr);
  EXPECT_EQ(a.polls, 2);  // the caller's objects were polled
  EXPECT_EQ(b.polls, 2);
  EXPECT_EQ(count_kind(rec, EventKind::kSpawn), 2);
  EXPECT_EQ(count_kind(rec, EventKind::kPoll), 4);
  EXPECT_TRUE(rec.lints().empty()) << rec.lint_report();
}

TEST(RecorderHooksTest, BlockOnIsRecordedUnderTheNullKey) {
  Recorder rec(ticking());
  rec.attach(nullptr);
  EXPECT_EQ(block_on(poll_fn([](Context&) -> Poll<int> { return Ready(5); })), 5);
  rec.detach(nullptr);
  EXPECT_EQ(count_kind(rec, EventKind::kPoll), 1);
}

#endif

}  // namespace
}  // namespace pollwake::record
