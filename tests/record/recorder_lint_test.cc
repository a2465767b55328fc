// tests/record/recorder_lint_test.cc: each lint of record::Recorder, with a
// program that triggers it and one that does not. Single-threaded on a
// LocalPool driven by run_until_stalled (never sleeps, so nothing can hang);
// the long-poll lint uses an injected clock, never the wall clock.

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "executor/local_pool.h"
#include "executor/record/recorder.h"
#include "gtest/gtest.h"
#include "poll/ready.h"

namespace pollwake::record {
namespace {

// A clock that advances 1 us per reading: traces stay ordered, and no poll
// looks long however slow the machine (sanitizers) is.
inline RecorderOptions ticking(RecorderOptions o = {}) {
  auto now = std::make_shared<std::atomic<std::uint64_t>>(0);
  o.clock = [now] { return now->fetch_add(1000) + 1000; };
  return o;
}

RecorderOptions self_wake_options() {
  RecorderOptions o;
  o.self_wake_loop_min = 64;
  return o;
}

RecorderOptions clock_options(std::atomic<std::uint64_t>& clock) {
  RecorderOptions o;
  o.clock = [&clock] { return clock.load(); };
  o.long_poll_ns = 10'000'000;
  return o;
}

int count(const Recorder& rec, LintKind kind) {
  int n = 0;
  for (const Lint& l : rec.lints()) n += l.kind == kind;
  return n;
}

// A future that returns Pending without keeping the waker anywhere.
TEST(RecorderLintTest, LostWakerFlagsPendingTaskWithNoWaker) {
  Recorder rec(ticking());
  {
    LocalPool pool;
    // [START lost_waker]
    pool.spawner().spawn_local(rec.wrap(poll_fn([](Context&) -> Poll<Unit> { return Pending; }),
                                        std::source_location::current(), "forgets its waker"));
    pool.run_until_stalled();
    ASSERT_EQ(count(rec, LintKind::kLostWaker), 1) << rec.lint_report();
    // [END lost_waker]
  }
  // Still reported once the pool dropped the task.
  EXPECT_EQ(count(rec, LintKind::kLostWaker), 1) << rec.lint_report();
  EXPECT_NE(rec.lint_report().find("lost-waker: task 1 (forgets its waker)"), std::string::npos)
      << rec.lint_report();
}

TEST(RecorderLintTest, LostWakerQuietWhenWakerIsKept) {
  Recorder rec(ticking());
  std::optional<Waker> kept;
  {
    LocalPool pool;
    int polls = 0;
    pool.spawner().spawn_local(rec.wrap(poll_fn([&](Context& cx) -> Poll<Unit> {
      if (++polls == 1) {
        kept.emplace(cx.waker());
        return Pending;
      }
      return Ready();
    })));
    pool.run_until_stalled();
    EXPECT_EQ(count(rec, LintKind::kLostWaker), 0) << rec.lint_report();
    std::move(*kept).wake();
    kept.reset();
    pool.run_until_stalled();
    EXPECT_EQ(polls, 2);
  }
  EXPECT_TRUE(rec.lints().empty()) << rec.lint_report();
}

// The last waker of a Pending task dropped by someone else (not teardown).
TEST(RecorderLintTest, LostWakerFlagsTaskWhoseLastWakerIsDropped) {
  Recorder rec(ticking());
  std::optional<Waker> kept;
  LocalPool pool;
  pool.spawner().spawn_local(rec.wrap(poll_fn([&](Context& cx) -> Poll<Unit> {
    kept.emplace(cx.waker());
    return Pending;
  })));
  pool.run_until_stalled();
  EXPECT_EQ(count(rec, LintKind::kLostWaker), 0) << rec.lint_report();
  kept.reset();  // dropped without waking: nobody can wake the task now
  EXPECT_EQ(count(rec, LintKind::kLostWaker), 1) << rec.lint_report();
}

// A waker kept past the task's end, then woken.
TEST(RecorderLintTest, WakeAfterCompleteFlagsLateWake) {
  Recorder rec(ticking());
  std::optional<Waker> kept;
  {
    LocalPool pool;
    pool.spawner().spawn_local(rec.wrap(poll_fn([&](Context& cx) -> Poll<Unit> {
      kept.emplace(cx.waker());
      return Ready();
    })));
    pool.run_until_stalled();
    EXPECT_EQ(count(rec, LintKind::kWakeAfterComplete), 0);
    kept->wake_by_ref();
    kept.reset();
  }
  EXPECT_EQ(count(rec, LintKind::kWakeAfterComplete), 1) << rec.lint_report();
}

TEST(RecorderLintTest, WakeAfterCompleteQuietWhenWakesPrecedeTheEnd) {
  Recorder rec(ticking());
  std::optional<Waker> kept;
  {
    LocalPool pool;
    int polls = 0;
    pool.spawner().spawn_local(rec.wrap(poll_fn([&](Context& cx) -> Poll<Unit> {
      if (++polls < 3) {
        kept.emplace(cx.waker());
        return Pending;
      }
      return Ready();
    })));
    for (int i = 0; i < 2; ++i) {
      pool.run_until_stalled();
      std::optional<Waker> w = std::move(kept);
      kept.reset();
      std::move(*w).wake();
    }
    pool.run_until_stalled();
    EXPECT_EQ(polls, 3);
  }
  EXPECT_TRUE(rec.lints().empty()) << rec.lint_report();
}

// Wakes itself on every poll and waits for nothing else.
TEST(RecorderLintTest, SelfWakeLoopFlagsBusyTask) {
  Recorder rec(ticking(self_wake_options()));
  {
    LocalPool pool;
    int polls = 0;
    pool.spawner().spawn_local(rec.wrap(poll_fn([&](Context& cx) -> Poll<Unit> {
      if (++polls > 100) return Ready();
      cx.waker().wake_by_ref();
      return Pending;
    })));
    while (polls <= 100) pool.run_until_stalled();
  }
  ASSERT_EQ(count(rec, LintKind::kSelfWakeLoop), 1) << rec.lint_report();
  EXPECT_NE(rec.lint_report().find("woke only itself (100 times in 101 polls)"), std::string::npos)
      << rec.lint_report();
}

// Two tasks that wake each other 100 times: many wakes, none of them self-wakes.
TEST(RecorderLintTest, SelfWakeLoopQuietForPingPong) {
  Recorder rec(ticking(self_wake_options()));
  {
    LocalPool pool;
    std::optional<Waker> ping_waker, pong_waker;
    int pings = 0, pongs = 0;
    auto player = [&](int& mine, int& theirs, std::optional<Waker>& my_slot,
                      std::optional<Waker>& their_slot) {
      return poll_fn([&](Context& cx) -> Poll<Unit> {
        if (mine >= 100) return Ready();
        if (mine > theirs) {  // my turn is over: wait for the other player
          my_slot.emplace(cx.waker());
          return Pending;
        }
        ++mine;
        my_slot.emplace(cx.waker());
        if (their_slot) {
          std::optional<Waker> w = std::move(their_slot);
          their_slot.reset();
          std::move(*w).wake();
        }
        return mine >= 100 ? Poll<Unit>(Ready()) : Poll<Unit>(Pending);
      });
    };
    pool.spawner().spawn_local(rec.wrap(player(pings, pongs, ping_waker, pong_waker)));
    pool.spawner().spawn_local(rec.wrap(player(pongs, pings, pong_waker, ping_waker)));
    pool.run_until_stalled();
    EXPECT_EQ(pings, 100);
    EXPECT_EQ(pongs, 100);
    ping_waker.reset();
    pong_waker.reset();
  }
  EXPECT_EQ(count(rec, LintKind::kSelfWakeLoop), 0) << rec.lint_report();
  EXPECT_EQ(count(rec, LintKind::kLostWaker), 0) << rec.lint_report();
}

// The clock is a counter the polls advance: no wall clock.
TEST(RecorderLintTest, LongPollFlagsPollOverThreshold) {
  std::atomic<std::uint64_t> clock{0};
  Recorder rec(clock_options(clock));
  {
    LocalPool pool;
    pool.spawner().spawn_local(rec.wrap(poll_fn([&](Context&) -> Poll<Unit> {
      clock += 50'000'000;  // "blocks" for 50 ms
      return Ready();
    })));
    pool.run_until_stalled();
  }
  ASSERT_EQ(count(rec, LintKind::kLongPoll), 1) << rec.lint_report();
  EXPECT_NE(rec.lint_report().find("longest 50.000 ms"), std::string::npos) << rec.lint_report();
}

TEST(RecorderLintTest, LongPollQuietUnderThreshold) {
  std::atomic<std::uint64_t> clock{0};
  Recorder rec(clock_options(clock));
  {
    LocalPool pool;
    pool.spawner().spawn_local(rec.wrap(poll_fn([&](Context&) -> Poll<Unit> {
      clock += 1'000'000;  // 1 ms
      return Ready();
    })));
    pool.run_until_stalled();
  }
  EXPECT_TRUE(rec.lints().empty()) << rec.lint_report();
}

// A waker clone that outlives its (finished) task.
TEST(RecorderLintTest, LeakedWakerFlagsWakerOutlivingTask) {
  Recorder rec(ticking());
  std::optional<Waker> kept;
  {
    LocalPool pool;
    pool.spawner().spawn_local(rec.wrap(poll_fn([&](Context& cx) -> Poll<Unit> {
      kept.emplace(cx.waker());
      return Ready();
    })));
    pool.run_until_stalled();
  }
  EXPECT_EQ(count(rec, LintKind::kLeakedWaker), 1) << rec.lint_report();
  kept.reset();  // released: no longer leaked (and the recorder may go)
  EXPECT_EQ(count(rec, LintKind::kLeakedWaker), 0) << rec.lint_report();
}

TEST(RecorderLintTest, LeakedWakerQuietWhenClonesAreDropped) {
  Recorder rec(ticking());
  {
    LocalPool pool;
    pool.spawner().spawn_local(rec.wrap(poll_fn([&](Context& cx) -> Poll<Unit> {
      Waker copy = cx.waker();  // cloned and dropped within the poll
      return Ready();
    })));
    pool.run_until_stalled();
  }
  EXPECT_TRUE(rec.lints().empty()) << rec.lint_report();
  bool cloned = false, dropped = false;
  for (const Event& e : rec.events()) {
    cloned |= e.kind == EventKind::kWakerClone;
    dropped |= e.kind == EventKind::kWakerDrop;
  }
  EXPECT_TRUE(cloned && dropped);
}

TEST(RecorderLintTest, CleanRunReportsNoLints) {
  Recorder rec(ticking());
  EXPECT_EQ(rec.lint_report(), "recorder: no lints\n");
}

// Misuse: a moved-from Recorded holds no future; polling it throws (it
// used to reach through a null recorder), and dropping it records nothing.
TEST(RecordedTest, PollingAMovedFromShellThrows) {
  Recorder rec(ticking());
  auto shell = rec.wrap(ready(7), std::source_location::current(), "moved");
  auto task = std::move(shell);
  Context cx = Context::from_waker(Waker::noop());
  EXPECT_THROW(shell.poll(cx), FuturePolledAfterCompletion);
  Poll<int> p = task.poll(cx);
  ASSERT_TRUE(p.is_ready());
  EXPECT_EQ(p.value(), 7);
}

// Misuse: the recorder goes first while a recorded waker is still alive.
TEST(RecorderDeathTest, DestroyedWhileReferredToStopsTheProcess) {
  EXPECT_DEATH(
      {
        auto* rec = new Recorder(ticking());
        std::optional<Waker> kept;
        {
          LocalPool pool;
          pool.spawner().spawn_local(rec->wrap(poll_fn([&](Context& cx) -> Poll<Unit> {
            kept.emplace(cx.waker());
            return Ready();
          })));
          pool.run_until_stalled();
        }
        delete rec;
      },
      "Recorder destroyed while 0 recorded task\\(s\\) and 1 waker\\(s\\) still refer to it");
}

}  // namespace
}  // namespace pollwake::record
