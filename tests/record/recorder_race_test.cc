// tests/record/recorder_race_test.cc: a Recorder destroyed while another
// thread is still inside the wake that let its owner go on. The helper
// thread wakes the main thread's block_on task by value; the task finishes,
// block_on returns and the recorder is destroyed at once, while the helper
// still has the wake's bookkeeping to do (its duration, its waker counted
// gone). The destructor must wait for it: without that, it stops the
// process ("1 waker(s) still refer to it") or frees what the helper still
// touches (TSan reports it). The injected clock holds the helper inside
// that window until the destruction has begun, so the order is the racy one.
// Read in that window, the lints must not count the consumed waker as
// alive (a leaked-waker report for a waker that was woken by value).

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <thread>

#include "executor/block_on.h"
#include "executor/record/recorder.h"
#include "gtest/gtest.h"
#include "poll/ready.h"
#include "tests/support/watchdog.h"

namespace pollwake::record {
namespace {

TEST(RecorderTeardownTest, DestructionWaitsForAWakeStillRecording) {
  testing::Watchdog dog("recorder destroyed during a wake");
  constexpr int kRounds = 20;
  for (int round = 0; round < kRounds; ++round) {
    auto destroying = std::make_shared<std::atomic<bool>>(false);
    auto helper_calls = std::make_shared<std::atomic<int>>(0);
    auto helper_id = std::make_shared<std::atomic<std::thread::id>>();
    RecorderOptions o;
    auto ticks = std::make_shared<std::atomic<std::uint64_t>>(0);
    o.clock = [=] {
      if (std::this_thread::get_id() == helper_id->load() && helper_calls->fetch_add(1) == 1) {
        // The helper's second reading: after its inner wake, before the
        // wake's bookkeeping. Wait (bounded) for the owner to start
        // destroying the recorder, then give the destructor a head start.
        for (int i = 0; i < 2000 && !destroying->load(); ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      return ticks->fetch_add(1000) + 1000;
    };
    auto* rec = new Recorder(std::move(o));
    std::promise<Waker> handoff;
    std::thread helper([&, helper_id] {
      helper_id->store(std::this_thread::get_id());
      Waker w = handoff.get_future().get();
      std::move(w).wake();  // by value: the waker is consumed here
    });
    int polls = 0;
    int v = block_on(rec->wrap(poll_fn([&](Context& cx) -> Poll<int> {
      if (++polls == 1) {
        handoff.set_value(cx.waker());
        return Pending;
      }
      return Ready(polls);
    })));
    EXPECT_EQ(v, 2);
    // The helper is held between its inner wake and the wake's end: the
    // waker it consumed is already gone, so no lint may call it leaked.
    for (const Lint& lint : rec->lints()) {
      EXPECT_NE(lint.kind, LintKind::kLeakedWaker) << lint.message;
    }
    destroying->store(true);
    delete rec;  // the helper may still be inside the wake
    helper.join();
    dog.tick();
  }
  EXPECT_FALSE(dog.stalled());
}

}  // namespace
}  // namespace pollwake::record
