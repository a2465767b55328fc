// tests/reactor/runtime_test.cc: the one-thread runtime's poll budget
// (reactor/runtime.h): tasks that keep waking each other must not keep the
// reactor from being turned, so sockets and timers still make progress.
#include "reactor/runtime.h"

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

#include <gtest/gtest.h>

#include "interop/coro/async_fn.h"
#include "poll/oneshot.h"
#include "poll/yield_now.h"
#include "reactor/tcp.h"
#include "tests/reactor/test_support.h"

namespace pollwake::reactor {
namespace {

using namespace std::chrono_literals;
using testing::Watchdog;

// Two PingPong tasks wake each other on every poll and never finish until
// `stop`: to the LocalPool each pass is progress (a wake of ANOTHER task), so
// run_until_stalled alone would never return.
struct PingPongState {
  std::atomic<bool> stop{false};
  Waker waiting[2] = {Waker::noop(), Waker::noop()};  // owner thread only
  std::uint64_t polls = 0;   // owner thread only
  int finished = 0;          // owner thread only
};

class PingPong {
 public:
  using Output = Unit;
  PingPong(std::shared_ptr<PingPongState> s, int side) : s_(std::move(s)), side_(side) {}
  Poll<Unit> poll(Context& cx) {
    PingPongState& s = *s_;
    ++s.polls;
    s.waiting[1 - side_].wake_by_ref();  // the other side (a no-op waker at first)
    // ORDERING: relaxed; set on this same thread (by the main future).
    if (s.stop.load(std::memory_order_relaxed)) {
      ++s.finished;
      return Ready();
    }
    s.waiting[side_] = cx.waker();
    return Pending;
  }

 private:
  std::shared_ptr<PingPongState> s_;
  int side_;
};

// Reads `n` bytes from `s` (a socket already holding them), then reports.
coro::Async<> read_then_send(TcpStream s, std::size_t n, oneshot::Sender<std::size_t> done) {
  char buf[64];
  std::size_t got = 0;
  while (got < n) {
    IoResult<std::size_t> r = co_await s.read(buf, sizeof buf);
    if (r.is_err() || r.value() == 0) break;
    got += r.value();
  }
  (void)done.send(got);
}

// Before the budget, this test never returned: the watchdog ended it.
TEST(LocalRuntimeTest, WakePingPongDoesNotStarveSocketsOrTimers) {
  Watchdog dog("WakePingPongDoesNotStarveSocketsOrTimers", std::chrono::seconds(20));
  LocalRuntime rt;
  auto state = std::make_shared<PingPongState>();
  rt.spawn(PingPong(state, 0));
  rt.spawn(PingPong(state, 1));

  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
  ASSERT_EQ(::write(fds[0], "ping", 4), 4);  // readable before anyone waits
  TcpStream reader = TcpStream::from_fd(rt.handle(), fds[1]).value();
  auto [done_tx, done_rx] = oneshot::channel<std::size_t>();
  // A spawned socket task, competing with the ping-pong in the same pool.
  rt.spawn(read_then_send(std::move(reader), 4, std::move(done_tx)));

  // The main future needs a timer, then the socket task's result.
  auto main = [](Handle h, oneshot::Receiver<std::size_t> rx,
                 std::shared_ptr<PingPongState> s) -> coro::Async<std::size_t> {
    co_await sleep(h, 2ms);
    auto got = co_await std::move(rx);
    // ORDERING: relaxed; the ping-pong tasks read it on this same thread.
    s->stop.store(true, std::memory_order_relaxed);
    co_return got.is_ok() ? got.value() : 0;
  };
  EXPECT_EQ(rt.block_on(main(rt.handle(), std::move(done_rx), state)), 4u);
  // The ping-pong ran all along: at least a full budget before the first
  // reactor turn could have fired the timer.
  EXPECT_GE(state->polls, static_cast<std::uint64_t>(detail::kEventInterval));
  // And it ends once told to (each side wakes the other one last time).
  while (state->finished < 2) rt.block_on(sleep(rt.handle(), 1ms));
  ::close(fds[0]);
}

// The budget defers tasks; it must never lose one. Many always-ready tasks
// (each yields by waking itself N times) all finish.
TEST(LocalRuntimeTest, BudgetDefersButLosesNoTask) {
  Watchdog dog("BudgetDefersButLosesNoTask");
  LocalRuntime rt;
  constexpr int kTasks = 200;  // more than a budget's worth in one pass
  int finished = 0;
  for (int i = 0; i < kTasks; ++i) {
    rt.spawn([](int* finished) -> coro::Async<> {
      for (int k = 0; k < 5; ++k) co_await yield_now();
      ++*finished;
    }(&finished));
  }
  while (finished < kTasks) rt.block_on(sleep(rt.handle(), 1ms));
  EXPECT_EQ(finished, kTasks);
}

// Writes one byte to `fd` (a plain socket, not the runtime's) when polled.
coro::Async<> write_byte(int fd) {
  EXPECT_EQ(::write(fd, "x", 1), 1);
  co_return;
}

// The sleeping policy (reactor/runtime.h): a pass that ran a task is followed
// by a non-blocking turn, so I/O that the pass caused is picked up without
// going to sleep. Here the main future waits to read; a task writes the byte
// it waits for. The old policy (block whenever no wake is pending) found the
// byte with a turn that could block (it returned at once, but a thread on a
// loaded machine that enters epoll_wait may not run again for milliseconds).
TEST(LocalRuntimeTest, APassThatRanATaskIsFollowedByANonBlockingTurn) {
  Watchdog dog("APassThatRanATaskIsFollowedByANonBlockingTurn");
  LocalRuntime rt;
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
  TcpStream reader = TcpStream::from_fd(rt.handle(), fds[1]).value();
  rt.spawn(write_byte(fds[0]));
  auto main = [](TcpStream& s) -> coro::Async<std::size_t> {
    char buf[8];
    IoResult<std::size_t> r = co_await s.read(buf, sizeof buf);
    co_return r.is_ok() ? r.value() : 0;
  };
  EXPECT_EQ(rt.block_on(main(reader)), 1u);
  EXPECT_EQ(rt.reactor().turn_counts().may_block, 0u)
      << "went to sleep right after a pass that ran a task";
  EXPECT_GE(rt.reactor().turn_counts().nonblocking, 1u);
  ::close(fds[0]);
}

// And the other half: with nothing to do it sleeps instead of spinning on
// non-blocking turns. Waiting for a timer costs one non-blocking turn (after
// the pass that armed it) and then blocking ones, however long the wait.
TEST(LocalRuntimeTest, AnIdleRuntimeBlocksInsteadOfSpinning) {
  Watchdog dog("AnIdleRuntimeBlocksInsteadOfSpinning");
  LocalRuntime rt;
  rt.block_on(sleep(rt.handle(), 20ms));
  Reactor::TurnCounts n = rt.reactor().turn_counts();
  EXPECT_LE(n.nonblocking, 2u) << "spun on epoll_wait(0) while idle";
  EXPECT_GE(n.may_block, 1u);
}

// The budget still bounds the work between two turns with the new policy:
// a wake ping-pong that never stops is interrupted by a turn (here counted)
// at least once per kEventInterval polls.
TEST(LocalRuntimeTest, BudgetStillBoundsPollsBetweenTurns) {
  Watchdog dog("BudgetStillBoundsPollsBetweenTurns");
  LocalRuntime rt;
  auto state = std::make_shared<PingPongState>();
  rt.spawn(PingPong(state, 0));
  rt.spawn(PingPong(state, 1));
  auto main = [](Handle h, std::shared_ptr<PingPongState> s) -> coro::Async<> {
    co_await sleep(h, 5ms);
    // ORDERING: relaxed; the ping-pong tasks read it on this same thread.
    s->stop.store(true, std::memory_order_relaxed);
  };
  rt.block_on(main(rt.handle(), state));
  Reactor::TurnCounts n = rt.reactor().turn_counts();
  const std::uint64_t turns = n.nonblocking + n.may_block;
  EXPECT_GE(turns * static_cast<std::uint64_t>(detail::kEventInterval), state->polls);
}

}  // namespace
}  // namespace pollwake::reactor
