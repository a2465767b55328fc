// tests/stress/block_on_stress_test.cc: block_on under races (bounded).
//
// A lost wakeup leaves block_on parked forever; the Watchdog then wakes the
// stuck waker by hand after the deadline and the test FAILS with the round
// it was in. The thread-local parker's lifetime (wakers outliving their
// thread) is checked by ASan (use after free, leaks) and TSan (races).
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "executor/block_on.h"
#include "executor/enter.h"
#include "gtest/gtest.h"
#include "poll/context.h"
#include "poll/latest_waker.h"
#include "poll/poll.h"
#include "poll/ready.h"
#include "poll/waker.h"
#include "tests/stress/counted_future.h"
#include "tests/stress/stress_util.h"

namespace pollwake {
namespace {

using testing::Scaled;

// The state one round shares between the blocked thread and the producers:
// a stress::Slot (a count of events and the waker of the latest poll), the
// number of events that makes the future Ready, and a count of polls.
struct Round : stress::Slot {
  explicit Round(int total) : total(total) {}
  const int total;
  std::atomic<int> polls{0};
};

// Ready once it has seen every event. It keeps the rule of a future that
// returns Pending: store the waker first, then check again.
struct StormFuture {
  using Output = int;
  Round* round;
  Poll<int> poll(Context& cx) {
    round->polls.fetch_add(1, std::memory_order_relaxed);  // ORDERING: a count only
    // ORDERING: acquire, pairs with the producers' release increments.
    if (round->events.load(std::memory_order_acquire) == round->total) return Ready(round->total);
    {
      std::lock_guard lock(round->mu);
      round->waker.update(cx.waker());
    }
    if (round->events.load(std::memory_order_acquire) == round->total) return Ready(round->total);
    return Pending;
  }
};

// Producer `p` makes `per` events happen, waking the task after each one in
// one of three ways: wake_by_ref, wake on a clone, clone-and-drop then wake.
void Produce(Round& round, int p, int per) {
  for (int i = 0; i < per; ++i) {
    // ORDERING: release, so the event is visible to the poll the wake causes.
    round.events.fetch_add(1, std::memory_order_release);
    std::optional<Waker> w = round.clone_waker();
    if (!w) continue;  // not polled yet: the first poll will see the event
    switch ((p + i) % 3) {
      case 0:
        w->wake_by_ref();
        break;
      case 1:
        std::move(*w).wake();
        break;
      default: {
        Waker extra = *w;  // one more clone, dropped at once
        (void)extra;
        std::move(*w).wake();
      }
    }
  }
}

template <class Strategy>
void RunWakeStorm(const char* name) {
  testing::Watchdog dog(std::string("block_on wake storm, ") + name);
  const int rounds = Scaled(1500, 40);
  constexpr int kProducers = 3;
  constexpr int kPerProducer = 20;
  for (int r = 0; r < rounds; ++r) {
    Round round(kProducers * kPerProducer);
    dog.tick("round " + std::to_string(r));
    dog.on_stall([&round] {
      if (auto w = round.clone_waker()) w->wake_by_ref();
    });
    std::vector<std::thread> producers;
    for (int p = 0; p < kProducers; ++p) {
      producers.emplace_back([&round, p] { Produce(round, p, kPerProducer); });
    }
    StormFuture f{&round};
    int out = block_on_with<Strategy>(f);
    for (auto& t : producers) t.join();
    dog.on_stall(nullptr);
    ASSERT_EQ(out, round.total);
    ASSERT_FALSE(dog.stalled()) << name << ": lost wakeup: block_on stayed parked in round " << r
                                << " until the watchdog woke it by hand";
    // No more polls than one per wake, plus the first and the final one.
    ASSERT_LE(round.polls.load(), round.total + 2) << "round " << r;
  }
}

TEST(BlockOnStressTest, WakeStormFromSeveralThreadsIsNeverLostFutexPark) {
  RunWakeStorm<FutexPark>("FutexPark");
}

TEST(BlockOnStressTest, WakeStormFromSeveralThreadsIsNeverLostCondvarPark) {
  RunWakeStorm<CondvarPark>("CondvarPark");
}

TEST(BlockOnStressTest, WakeStormFromSeveralThreadsIsNeverLostSpinThenPark) {
  RunWakeStorm<SpinThenPark>("SpinThenPark");
}

// The future hands clones of its waker to other threads and finishes; its
// thread then exits while those threads keep cloning, waking and dropping
// the clones. The last clone frees the thread's parker (ASan checks it is
// freed once, and not used after).
TEST(BlockOnStressTest, WakersOutliveTheirThread) {
  testing::Watchdog dog("block_on wakers outliving their thread");
  const int rounds = Scaled(300, 20);
  for (int r = 0; r < rounds; ++r) {
    dog.tick("round " + std::to_string(r));
    std::mutex mu;
    std::vector<Waker> escaped;  // written under mu
    std::atomic<bool> owner_gone{false};
    std::atomic<long> wakes_after_exit{0};
    std::thread owner([&] {
      int polls = 0;
      auto f = poll_fn([&](Context& cx) -> Poll<int> {
        ++polls;
        {
          std::lock_guard lock(mu);
          for (int i = 0; i < 4; ++i) escaped.push_back(cx.waker());
        }
        // Wake itself once so the park path is exercised, then finish.
        if (polls == 1) {
          cx.waker().wake_by_ref();
          return Pending;
        }
        return Ready(polls);
      });
      EXPECT_EQ(block_on(f), 2);
    });
    std::thread waker_thread([&] {
      // Races the owner's exit: wake, clone and drop until the owner is gone
      // and a few more times after.
      for (int i = 0; i < 200 || !owner_gone.load(); ++i) {
        std::vector<Waker> mine;
        {
          std::lock_guard lock(mu);
          if (!escaped.empty()) {
            mine.push_back(std::move(escaped.back()));
            escaped.pop_back();
          }
        }
        for (Waker& w : mine) {
          Waker c = w;
          c.wake_by_ref();
          std::move(c).wake();
          if (owner_gone.load()) wakes_after_exit.fetch_add(1);
        }
        if (i > 100000) break;  // bound, whatever happens
        std::this_thread::yield();
      }
    });
    owner.join();
    owner_gone = true;
    waker_thread.join();
    // The rest of the escaped wakers are woken and dropped here, after the
    // owning thread has exited.
    std::lock_guard lock(mu);
    for (Waker& w : escaped) w.wake_by_ref();
    escaped.clear();
  }
}

struct Boom : std::runtime_error {
  Boom() : std::runtime_error("boom from poll") {}
};

// A future that throws on its third poll while producers keep waking it.
// The exception reaches the caller, the enter flag is restored (block_on
// works again on the same thread), and the wakes still in flight for the
// failed call only cost the next call a poll.
TEST(BlockOnStressTest, ExceptionFromPollWhileWokenLeavesThreadUsable) {
  testing::Watchdog dog("block_on exception from poll");
  const int rounds = Scaled(600, 30);
  int thrown = 0;
  for (int r = 0; r < rounds; ++r) {
    dog.tick("round " + std::to_string(r));
    auto round = std::make_shared<Round>(1000000);  // never complete by events
    std::thread producer([round] { Produce(*round, 0, 50); });
    auto throwing = poll_fn([&](Context& cx) -> Poll<int> {
      if (round->polls.fetch_add(1) == 2) throw Boom();
      {
        std::lock_guard lock(round->mu);
        round->waker.update(cx.waker());
      }
      cx.waker().wake_by_ref();  // keep it going until the third poll
      return Pending;
    });
    try {
      block_on(throwing);
    } catch (const Boom&) {
      ++thrown;
    }
    ASSERT_FALSE(is_entered()) << "round " << r << ": the enter flag leaked out of a throw";
    // The next call on this thread must work, whatever stale wakes arrive.
    Round next(1);
    next.events = 1;
    StormFuture ok{&next};
    ASSERT_EQ(block_on(ok), 1) << "round " << r;
    producer.join();
  }
  EXPECT_EQ(thrown, rounds);
}

}  // namespace
}  // namespace pollwake
