// tests/reactor/reactor_test.cc: the epoll driver itself (reactor/reactor.h):
// readiness and re-arm, the readiness tick, the eventfd unpark, timers, a
// reactor dropped under its registrations, and wakes racing deregistration.
#include "reactor/reactor.h"

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "poll/context.h"
#include "poll/waker_fn.h"
#include "tests/reactor/test_support.h"

namespace pollwake::reactor {
namespace {

using namespace std::chrono_literals;
using testing::Watchdog;

using Pair = testing::SocketPair;

struct CountingWaker {
  std::shared_ptr<std::atomic<int>> n = std::make_shared<std::atomic<int>>(0);
  Waker waker() const {
    return waker_fn([n = n] { n->fetch_add(1); });
  }
  int count() const { return n->load(); }
};

// A turn that must not fail (epoll_wait errors other than EINTR are values).
void turn_ok(Reactor& r, std::optional<Clock::duration> max_wait) {
  IoResult<int> t = r.turn(max_wait);
  EXPECT_TRUE(t.is_ok()) << t.error().message();
}

void drain(int fd) {
  char buf[4096];
  while (::recv(fd, buf, sizeof buf, 0) > 0) {
  }
}

TEST(ReactorTest, ReadinessWakesAndRearmsAfterWouldBlock) {
  Watchdog dog("ReadinessWakesAndRearmsAfterWouldBlock");
  Reactor r;
  Pair p;
  Registration reg = Registration::add(r.handle(), p.a).value();
  CountingWaker cw;
  Waker w = cw.waker();
  Context cx = Context::from_waker(w);

  turn_ok(r, Clock::duration::zero());  // the initial "writable" edge
  EXPECT_TRUE(reg.poll_ready(cx, Direction::kWrite).is_ready());
  EXPECT_TRUE(reg.poll_ready(cx, Direction::kRead).is_pending());

  ASSERT_EQ(::write(p.b, "x", 1), 1);
  while (cw.count() == 0) turn_ok(r, 1s);
  EXPECT_EQ(cw.count(), 1);
  Poll<ReadyEvent> ready = reg.poll_ready(cx, Direction::kRead);
  ASSERT_TRUE(ready.is_ready());
  EXPECT_TRUE(ready.value().ready & kReadable);

  // Drained: the next recv says EAGAIN; clearing re-arms the wait.
  drain(p.a);
  reg.clear_readiness(ready.value(), Direction::kRead);
  EXPECT_TRUE(reg.poll_ready(cx, Direction::kRead).is_pending());
  // Edge-triggered: no new data, no new wake, however often we turn.
  turn_ok(r, Clock::duration::zero());
  EXPECT_EQ(cw.count(), 1);

  ASSERT_EQ(::write(p.b, "y", 1), 1);
  while (cw.count() == 1) turn_ok(r, 1s);
  EXPECT_EQ(cw.count(), 2);
  EXPECT_TRUE(reg.poll_ready(cx, Direction::kRead).is_ready());
}

TEST(ReactorTest, ClearWithStaleTickKeepsNewerEvent) {
  Watchdog dog("ClearWithStaleTickKeepsNewerEvent");
  Reactor r;
  Pair p;
  Registration reg = Registration::add(r.handle(), p.a).value();
  CountingWaker cw;
  Waker w = cw.waker();
  Context cx = Context::from_waker(w);
  ASSERT_EQ(::write(p.b, "x", 1), 1);
  turn_ok(r, 1s);
  Poll<ReadyEvent> old = reg.poll_ready(cx, Direction::kRead);
  ASSERT_TRUE(old.is_ready());
  drain(p.a);
  // Data arrives (and the reactor sees it) between our recv and our clear.
  ASSERT_EQ(::write(p.b, "y", 1), 1);
  turn_ok(r, 1s);
  reg.clear_readiness(old.value(), Direction::kRead);  // stale tick: no effect
  EXPECT_TRUE(reg.poll_ready(cx, Direction::kRead).is_ready())
      << "the clear erased an event that came after it was read (lost wakeup)";
}

TEST(ReactorTest, ShortReadClearKeepsTheClosedBit) {
  Watchdog dog("ShortReadClearKeepsTheClosedBit");
  Reactor r;
  Pair p;
  Registration reg = Registration::add(r.handle(), p.a).value();
  Waker w = Waker::noop();
  Context cx = Context::from_waker(w);
  ASSERT_EQ(::write(p.b, "abc", 3), 3);
  ASSERT_EQ(::shutdown(p.b, SHUT_WR), 0);  // the last bytes and the FIN, one edge
  turn_ok(r, 1s);
  Poll<ReadyEvent> ready = reg.poll_ready(cx, Direction::kRead);
  ASSERT_TRUE(ready.is_ready());
  char buf[16];
  ASSERT_EQ(::recv(p.a, buf, sizeof buf, 0), 3);  // short: the buffer is drained
  reg.clear_readiness(ready.value(), Direction::kRead, /*would_block=*/false);
  Poll<ReadyEvent> again = reg.poll_ready(cx, Direction::kRead);
  ASSERT_TRUE(again.is_ready()) << "the FIN was lost with the short read's clear";
  EXPECT_TRUE(again.value().ready & kReadClosed);
  EXPECT_EQ(::recv(p.a, buf, sizeof buf, 0), 0);  // EOF, as the bit said
}

TEST(ReactorTest, UnparkWakesATurnBlockedInEpollWait) {
  Watchdog dog("UnparkWakesATurnBlockedInEpollWait");
  Reactor r;
  Handle h = r.handle();
  std::atomic<bool> returned{false};
  std::thread driver([&] {
    turn_ok(r, std::nullopt);  // no timer, no I/O: only the unpark can end it
    returned.store(true);
  });
  std::this_thread::sleep_for(20ms);
  h.unpark();
  driver.join();
  EXPECT_TRUE(returned.load());
}

TEST(ReactorTest, UnparkBeforeTurnIsRemembered) {
  Watchdog dog("UnparkBeforeTurnIsRemembered");
  Reactor r;
  r.handle().unpark();
  turn_ok(r, std::nullopt);  // returns at once: the eventfd is already readable
  SUCCEED();
}

TEST(ReactorTest, TimersFireInDeadlineOrderAndNotEarly) {
  Watchdog dog("TimersFireInDeadlineOrderAndNotEarly");
  Reactor r;
  auto base = Clock::now();
  std::vector<int> order;
  std::vector<Sleep> sleeps;
  int delays[] = {30, 10, 20};
  for (int d : delays) sleeps.push_back(sleep_until(r.handle(), base + std::chrono::milliseconds(d)));
  std::vector<Waker> wakers;
  for (int i = 0; i < 3; ++i) {
    wakers.push_back(waker_fn([&order, i] { order.push_back(i); }));
    Context cx = Context::from_waker(wakers.back());
    EXPECT_TRUE(sleeps[i].poll(cx).is_pending());
  }
  while (order.size() < 3) turn_ok(r, std::nullopt);  // the timeout is the nearest deadline
  EXPECT_EQ(order, (std::vector<int>{1, 2, 0}));
  for (int i = 0; i < 3; ++i) {
    Context cx = Context::from_waker(wakers[i]);
    EXPECT_TRUE(sleeps[i].poll(cx).is_ready());
  }
  // A lower bound only: a timer must never fire before its deadline. Load can
  // only make it later, so this cannot flake; no upper bound is asserted.
  EXPECT_GE(Clock::now(), base + 30ms);
}

TEST(ReactorTest, DroppedSleepIsNotWoken) {
  Watchdog dog("DroppedSleepIsNotWoken");
  Reactor r;
  CountingWaker cw;
  Waker w = cw.waker();
  Context cx = Context::from_waker(w);
  {
    Sleep s = sleep(r.handle(), 5ms);
    EXPECT_TRUE(s.poll(cx).is_pending());
  }
  Sleep later = sleep(r.handle(), 15ms);
  CountingWaker cw2;
  Waker w2 = cw2.waker();
  Context cx2 = Context::from_waker(w2);
  EXPECT_TRUE(later.poll(cx2).is_pending());
  while (cw2.count() == 0) turn_ok(r, std::nullopt);
  EXPECT_EQ(cw.count(), 0);
  EXPECT_TRUE(later.poll(cx2).is_ready());
}

TEST(ReactorTest, DroppedLongSleepsDoNotPileUpInTheHeap) {
  // Per-request timeouts: a long sleep armed and dropped before it fires,
  // many times over. Each must leave the heap eventually, not only when its
  // far-away deadline reaches the front.
  Reactor r;
  Waker w = Waker::noop();
  Context cx = Context::from_waker(w);
  Sleep live = sleep(r.handle(), std::chrono::hours(1));
  EXPECT_TRUE(live.poll(cx).is_pending());
  for (int i = 0; i < 10000; ++i) {
    Sleep s = sleep(r.handle(), std::chrono::hours(2));
    EXPECT_TRUE(s.poll(cx).is_pending());
  }
  turn_ok(r, Clock::duration::zero());
  EXPECT_LE(r.timer_count(), 200u) << "cancelled timers are kept until their deadline";
  EXPECT_TRUE(live.poll(cx).is_pending());  // the live one survived the sweeps
}

TEST(ReactorTest, TurnFromTwoThreadsAtOnceThrows) {
  Watchdog dog("TurnFromTwoThreadsAtOnceThrows");
  Reactor r;
  std::atomic<bool> stop{false};
  std::thread driver([&] {
    while (!stop.load()) {
      try {
        turn_ok(r, std::nullopt);
      } catch (const std::logic_error&) {  // main got in first this time
      }
    }
  });
  bool threw = false;
  while (!threw) {  // until the driver is inside turn() when we call it
    try {
      turn_ok(r, Clock::duration::zero());
      std::this_thread::yield();
    } catch (const std::logic_error& e) {
      threw = true;
      EXPECT_NE(std::string(e.what()).find("two threads"), std::string::npos) << e.what();
    }
  }
  stop.store(true);
  r.handle().unpark();  // the driver, undisturbed, is still in epoll_wait
  driver.join();
  EXPECT_TRUE(threw);
}

TEST(ReactorTest, EmptyHandleThrowsInsteadOfCrashing) {
  Handle empty;
  EXPECT_THROW(empty.unpark(), std::logic_error);
  Pair p;
  EXPECT_THROW((void)Registration::add(empty, p.a), std::logic_error);
  Sleep s = sleep(empty, std::chrono::hours(1));
  Waker w = Waker::noop();
  Context cx = Context::from_waker(w);
  EXPECT_THROW((void)s.poll(cx), std::logic_error);
}

TEST(ReactorTest, EmptyRegistrationThrowsInsteadOfDereferencingNull) {
  Reactor r;
  Pair p;
  Waker w = Waker::noop();
  Context cx = Context::from_waker(w);
  Registration never;  // default-constructed
  EXPECT_THROW((void)never.poll_ready(cx, Direction::kRead), std::logic_error);
  Registration a = Registration::add(r.handle(), p.a).value();
  Registration b = std::move(a);  // `a` is now moved-from
  EXPECT_FALSE(a.registered());
  EXPECT_THROW((void)a.poll_ready(cx, Direction::kWrite), std::logic_error);
  EXPECT_THROW(a.clear_readiness(ReadyEvent{0, 0}, Direction::kRead), std::logic_error);
  try {
    (void)a.poll_ready(cx, Direction::kRead);
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("Registration::poll_ready"), std::string::npos);
  }
  b.deregister();  // deregistered: the same outcome
  EXPECT_THROW((void)b.poll_ready(cx, Direction::kRead), std::logic_error);
  // The moved-to registration worked until then.
  Registration c = Registration::add(r.handle(), p.b).value();
  EXPECT_TRUE(c.poll_ready(cx, Direction::kWrite).is_pending());
  turn_ok(r, Clock::duration::zero());
  EXPECT_TRUE(c.poll_ready(cx, Direction::kWrite).is_ready());
}

TEST(ReactorTest, DeregisterWakesAndMarksThePendingOperationsClosed) {
  Reactor r;
  Pair p;
  Registration reg = Registration::add(r.handle(), p.a).value();
  IoRef io = reg.user();  // what a pending future holds
  CountingWaker cw;
  Waker w = cw.waker();
  Context cx = Context::from_waker(w);
  EXPECT_TRUE(io->poll_ready(cx, Direction::kRead).is_pending());
  reg.deregister();
  EXPECT_EQ(cw.count(), 1);  // not left waiting for an event that cannot come
  Poll<ReadyEvent> ready = io->poll_ready(cx, Direction::kRead);
  ASSERT_TRUE(ready.is_ready());
  EXPECT_TRUE(ready.value().ready & kClosed);
  // A stale EAGAIN clear does not erase it.
  io->clear_readiness(ready.value(), Direction::kRead);
  EXPECT_TRUE(io->poll_ready(cx, Direction::kRead).value().ready & kClosed);
  turn_ok(r, Clock::duration::zero());
}

TEST(ReactorTest, TimerAddedFromAnotherThreadShortensTheWait) {
  Watchdog dog("TimerAddedFromAnotherThreadShortensTheWait");
  Reactor r;
  std::atomic<bool> fired{false};
  std::atomic<bool> started{false};
  std::thread driver([&] {
    started.store(true);
    while (!fired.load()) turn_ok(r, std::nullopt);  // blocks with no deadline at all
  });
  while (!started.load()) std::this_thread::yield();
  std::this_thread::sleep_for(10ms);  // let it enter epoll_wait with timeout -1
  Sleep s = sleep(r.handle(), 10ms);
  Waker w = waker_fn([&] { fired.store(true); });
  Context cx = Context::from_waker(w);
  if (s.poll(cx).is_ready()) fired.store(true);
  driver.join();  // hangs (watchdog) unless adding the timer unparked the driver
  EXPECT_TRUE(s.poll(cx).is_ready());
}

TEST(ReactorTest, DroppedReactorWakesRegistrationsWithReactorGone) {
  Watchdog dog("DroppedReactorWakesRegistrationsWithReactorGone");
  auto r = std::make_unique<Reactor>();
  Handle h = r->handle();
  Pair p;
  Registration reg = Registration::add(h, p.a).value();
  CountingWaker cw;
  Waker w = cw.waker();
  Context cx = Context::from_waker(w);
  EXPECT_TRUE(reg.poll_ready(cx, Direction::kRead).is_pending());
  Sleep s = sleep(h, std::chrono::hours(1));
  EXPECT_TRUE(s.poll(cx).is_pending());

  r.reset();
  EXPECT_EQ(cw.count(), 2);  // the reader and the sleep
  Poll<ReadyEvent> ready = reg.poll_ready(cx, Direction::kRead);
  ASSERT_TRUE(ready.is_ready());
  EXPECT_TRUE(ready.value().ready & kShutdown);
  EXPECT_TRUE(s.poll(cx).is_ready());  // documented: completes at once
  Pair q;
  IoResult<Registration> late = Registration::add(h, q.a);
  ASSERT_TRUE(late.is_err());
  EXPECT_EQ(late.error().kind(), ErrorKind::kReactorGone);
  Sleep s2 = sleep(h, std::chrono::hours(1));
  EXPECT_TRUE(s2.poll(cx).is_ready());
}  // reg deregisters after the reactor is gone: no use after free (ASan)

// The fd-number rule (ScheduledIo::add_user), without threads: the owner's
// close while an operation future is alive shuts the socket down at once
// (the peer sees it) but leaves the fd open, so its number cannot be handed
// to a new socket while the future may still make a syscall on it; the
// last user to go closes it.
TEST(ReactorTest, CloseWhileAFutureLivesKeepsTheFdNumberUntilTheLastIsDropped) {
  Watchdog dog("CloseWhileAFutureLivesKeepsTheFdNumberUntilTheLastIsDropped");
  Reactor r;
  Pair p;
  const int fd = p.a;
  p.a = -1;  // the Registration's owner closes it now
  Registration reg = Registration::add(r.handle(), fd).value();
  std::optional<IoRef> first(reg.user());  // what an operation future holds
  IoRef second = *first;                    // and another one
  reg.deregister_and_close();               // the stream is closed meanwhile
  EXPECT_TRUE(testing::fd_is_open(fd)) << "fd closed while a future may still use its number";
  char c;
  EXPECT_EQ(::read(p.b, &c, 1), 0) << "the peer did not see the close";
  Waker w = Waker::noop();
  Context cx = Context::from_waker(w);
  Poll<ReadyEvent> ready = first->get()->poll_ready(cx, Direction::kRead);
  ASSERT_TRUE(ready.is_ready());
  EXPECT_TRUE(ready.value().ready & kClosed);  // the futures end with kNotConnected
  first.reset();
  EXPECT_TRUE(testing::fd_is_open(fd)) << "closed while one user was left";
  second = IoRef();  // the last one out closes it (and frees the state: ASan)
  EXPECT_FALSE(testing::fd_is_open(fd));
  turn_ok(r, Clock::duration::zero());
}

// Many futures, some finished at once, a move of the registration in
// between, and a move-assignment onto a registered one: the close still
// waits for exactly the last future.
TEST(ReactorTest, ManyUsersAndMovesKeepTheFdUntilTheLastUserGoes) {
  Watchdog dog("ManyUsersAndMovesKeepTheFdUntilTheLastUserGoes");
  Reactor r;
  Pair p;
  const int fd = p.a;
  p.a = -1;
  Registration reg = Registration::add(r.handle(), fd).value();
  std::vector<IoRef> users;
  for (int i = 0; i < 150; ++i) {
    users.push_back(reg.user());
    if (i % 3 == 0) users.pop_back();  // some futures finish at once
  }
  Registration moved = std::move(reg);
  EXPECT_FALSE(reg.user())  // NOLINT(bugprone-use-after-move): the moved-from state is the point
      << "a moved-from registration handed out a use";
  for (int i = 0; i < 100; ++i) users.push_back(moved.user());
  // Moved onto a registered one: that one deregisters first, and its fd
  // (a plain deregister: the caller's) stays open and unclaimed.
  Registration other = Registration::add(r.handle(), p.b).value();
  IoRef other_user = other.user();
  other = std::move(moved);
  EXPECT_TRUE(other_user->closed());
  other_user = IoRef();
  EXPECT_TRUE(testing::fd_is_open(p.b));
  moved = std::move(other);
  moved.deregister_and_close();
  EXPECT_FALSE(moved.user()) << "a closed registration handed out a use";
  while (users.size() > 1) {
    users.pop_back();
    ASSERT_TRUE(testing::fd_is_open(fd)) << "closed with " << users.size() << " users left";
  }
  users.clear();  // the last one closes it (and frees the state: ASan)
  EXPECT_FALSE(testing::fd_is_open(fd));
  turn_ok(r, Clock::duration::zero());
}

// deregister() without close: the fd is the caller's; a user left over
// keeps the state alive (not the fd's ownership), and never closes it.
TEST(ReactorTest, AUserOutlivingAPlainDeregisterKeepsTheStateButNotTheFd) {
  Watchdog dog("AUserOutlivingAPlainDeregisterKeepsTheStateButNotTheFd");
  Reactor r;
  Pair p;
  Registration reg = Registration::add(r.handle(), p.a).value();
  IoRef user = reg.user();
  reg.deregister();
  turn_ok(r, Clock::duration::zero());  // the reactor lets go of its reference
  Waker w = Waker::noop();
  Context cx = Context::from_waker(w);
  EXPECT_TRUE(user->poll_ready(cx, Direction::kWrite).value().ready & kClosed);  // alive (ASan)
  user = IoRef();
  EXPECT_TRUE(testing::fd_is_open(p.a)) << "a plain deregister's last user closed the caller's fd";
}

// No operation future alive, though many came and went: nothing is left
// counted but the owner, so the close is immediate (a use counted twice
// would leave the fd open forever: a leak ASan and this test see).
TEST(ReactorTest, CloseWithNoFutureAliveIsImmediate) {
  Watchdog dog("CloseWithNoFutureAliveIsImmediate");
  Reactor r;
  Pair p;
  const int fd = p.a;
  p.a = -1;
  Registration reg = Registration::add(r.handle(), fd).value();
  for (int i = 0; i < 70; ++i) {
    IoRef user = reg.user();  // an operation made and dropped
  }
  reg.deregister_and_close();
  EXPECT_FALSE(testing::fd_is_open(fd));
  char c;
  EXPECT_EQ(::read(p.b, &c, 1), 0) << "the peer did not see the close";
}

TEST(ReactorTest, TurnCountsSayWhetherATurnMayBlock) {
  Watchdog dog("TurnCountsSayWhetherATurnMayBlock");
  Reactor r;
  turn_ok(r, Clock::duration::zero());
  turn_ok(r, Clock::duration::zero());
  turn_ok(r, 1ms);
  r.handle().unpark();
  turn_ok(r, std::nullopt);
  EXPECT_EQ(r.turn_counts().nonblocking, 2u);
  EXPECT_EQ(r.turn_counts().may_block, 2u);
}

TEST(ReactorTest, WakesRaceDeregistration) {
  Watchdog dog("WakesRaceDeregistration", std::chrono::seconds(60));
  Reactor r;
  Handle h = r.handle();
  std::atomic<bool> stop{false};
  std::thread driver([&] {
    while (!stop.load()) turn_ok(r, 1ms);
  });
  const int rounds = 3000 / testing::kSanitizerSlowdown;
  std::atomic<int> wakes{0};
  Waker w = waker_fn([&] { wakes.fetch_add(1); });
  Context cx = Context::from_waker(w);
  for (int i = 0; i < rounds; ++i) {
    Pair p;
    Registration reg = Registration::add(h, p.a).value();
    (void)reg.poll_ready(cx, Direction::kRead);  // a waker the driver may be about to wake
    ASSERT_EQ(::write(p.b, "x", 1), 1);          // an event in flight...
    if (i % 2) std::this_thread::yield();
    reg.deregister();                            // ...racing the deregistration
  }
  stop.store(true);
  driver.join();
  turn_ok(r, Clock::duration::zero());  // releases what is pending
  EXPECT_EQ(r.registered_count(), 0u);
  EXPECT_GT(wakes.load(), 0);
}

}  // namespace
}  // namespace pollwake::reactor
