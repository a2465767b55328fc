// tests/record/recorder_lint_test.cc: each lint of record::Recorder, with a
// program that triggers it and one that does not. Single-threaded on a
// LocalPool driven by run_until_stalled (never sleeps, so nothing can hang);
// the long-poll lint uses an injected clock, never the wall clock.

#include <atomic>
#include <memory>
#include <thread>
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
                                        SourceLocation::current(), "forgets its waker"));
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

// Teardown, in either order: a task that holds another's waker, and that
// other task, dropped together by their pool. Whichever goes first, nobody
// waited in vain: no lost waker. (The holder is not recorded, so no drop
// scope marks its destruction; the verdict must not hang on the order.)
struct HoldsWaker {
  using Output = Unit;
  std::shared_ptr<std::optional<Waker>> slot;
  Poll<Unit> poll(Context&) { return Pending; }  // never woken: it is torn down
};

TEST(RecorderLintTest, LostWakerQuietWhateverTheTeardownOrder) {
  for (bool holder_first : {true, false}) {
    SCOPED_TRACE(holder_first ? "holder spawned first" : "waiter spawned first");
    Recorder rec(ticking());
    {
      LocalPool pool;
      auto slot = std::make_shared<std::optional<Waker>>();
      // Only the holder owns the slot: the waiter merely fills it.
      auto waiter = rec.wrap(poll_fn([weak = std::weak_ptr(slot)](Context& cx) -> Poll<Unit> {
        if (auto s = weak.lock()) s->emplace(cx.waker());
        return Pending;
      }));
      if (holder_first) pool.spawner().spawn_local(HoldsWaker{slot});
      pool.spawner().spawn_local(std::move(waiter));
      if (!holder_first) pool.spawner().spawn_local(HoldsWaker{slot});
      pool.run_until_stalled();
      slot.reset();  // from here on the holder task owns the waiter's waker
      EXPECT_EQ(count(rec, LintKind::kLostWaker), 0) << rec.lint_report();
    }
    EXPECT_EQ(count(rec, LintKind::kLostWaker), 0) << rec.lint_report();
  }
}

// A task whose own destruction ends its waker on another thread (its
// future's destructor hands the waker to a thread and joins it): teardown
// of that task, not a lost waker.
struct DropsWakerElsewhere {
  using Output = Unit;
  std::optional<Waker> kept;
  DropsWakerElsewhere() = default;
  DropsWakerElsewhere(DropsWakerElsewhere&& o) noexcept : kept(std::move(o.kept)) { o.kept.reset(); }
  ~DropsWakerElsewhere() {
    if (!kept) return;
    std::thread t([w = std::move(*kept)]() mutable { Waker gone = std::move(w); });
    kept.reset();
    t.join();
  }
  Poll<Unit> poll(Context& cx) {
    kept.emplace(cx.waker());
    return Pending;
  }
};

TEST(RecorderLintTest, LostWakerQuietWhenTheTasksDropEndsItsWakerOnAnotherThread) {
  Recorder rec(ticking());
  {
    LocalPool pool;
    pool.spawner().spawn_local(rec.wrap(DropsWakerElsewhere{}));
    pool.run_until_stalled();
  }
  EXPECT_EQ(count(rec, LintKind::kLostWaker), 0) << rec.lint_report();
}

// A last waker dropped while the run goes on (another task is polled after
// it) is a lost waker, and stays one after the pool is gone.
TEST(RecorderLintTest, LostWakerFlagsDroppedWakerWhenTheRunWentOn) {
  Recorder rec(ticking());
  {
    std::optional<Waker> kept;
    LocalPool pool;
    pool.spawner().spawn_local(rec.wrap(poll_fn([&](Context& cx) -> Poll<Unit> {
      kept.emplace(cx.waker());
      return Pending;
    })));
    pool.run_until_stalled();
    kept.reset();  // dropped without waking
    pool.spawner().spawn_local(rec.wrap(ready(Unit{})));  // the run goes on
    pool.run_until_stalled();
  }
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
  EXPECT_NE(rec.lint_report().find("by a waker cloned in its last poll"), std::string::npos)
      << rec.lint_report();
  EXPECT_TRUE(rec.notes().empty()) << rec.lint_report();
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

// A waker registered by an earlier (Pending) poll fires after the task
// finished another way: a timer that outlived a task that completed, or
// was cancelled. A note with the waker's origin, not a lint.
TEST(RecorderLintTest, LateWakeAfterCancellationIsANoteNotALint) {
  Recorder rec(ticking());
  std::optional<Waker> timer;
  {
    LocalPool pool;
    pool.spawner().spawn_local(rec.wrap(poll_fn([&](Context& cx) -> Poll<Unit> {
      timer.emplace(cx.waker());  // registered with a "timer"
      return Pending;
    }), SourceLocation::current(), "sleeper"));
    pool.run_until_stalled();
  }  // the pool cancels the sleeper
  std::move(*timer).wake();  // the timer fires after that
  timer.reset();
  EXPECT_TRUE(rec.lints().empty()) << rec.lint_report();
  std::vector<Lint> notes = rec.notes();
  ASSERT_EQ(notes.size(), 1u) << rec.lint_report();
  EXPECT_EQ(notes[0].kind, LintKind::kLateWake);
  EXPECT_NE(notes[0].message.find("after it was dropped"), std::string::npos) << notes[0].message;
  EXPECT_NE(notes[0].message.find("cloned in poll 1 (which returned Pending)"), std::string::npos)
      << notes[0].message;
  EXPECT_NE(rec.lint_report().find("recorder: no lints\nrecorder: note: late-wake: task 1 (sleeper)"),
            std::string::npos)
      << rec.lint_report();
}

TEST(RecorderLintTest, LateWakeAfterCompletionByAnotherPathIsANote) {
  Recorder rec(ticking());
  std::optional<Waker> timer, channel;
  {
    LocalPool pool;
    int polls = 0;
    pool.spawner().spawn_local(rec.wrap(poll_fn([&](Context& cx) -> Poll<Unit> {
      if (++polls == 1) {
        timer.emplace(cx.waker());
        channel.emplace(cx.waker());
        return Pending;
      }
      return Ready();
    })));
    pool.run_until_stalled();
    std::optional<Waker> w = std::move(channel);
    channel.reset();
    std::move(*w).wake();
    pool.run_until_stalled();
    EXPECT_EQ(polls, 2);
  }
  timer->wake_by_ref();  // the timer fires late
  timer.reset();
  EXPECT_TRUE(rec.lints().empty()) << rec.lint_report();
  std::vector<Lint> notes = rec.notes();
  ASSERT_EQ(notes.size(), 1u) << rec.lint_report();
  EXPECT_NE(notes[0].message.find("after it completed"), std::string::npos) << notes[0].message;
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
  auto shell = rec.wrap(ready(7), SourceLocation::current(), "moved");
  auto task = std::move(shell);
  Context cx = Context::from_waker(Waker::noop());
  EXPECT_THROW((void)shell.poll(cx), FuturePolledAfterCompletion);
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
