// tests/reactor/readiness_observer_test.cc: the reactor's readiness
// observer, the hook through which the runtimes feed the recorder
// (executor/record/). It is called on the turning thread for every
// descriptor event a turn delivers, with the descriptor and its bits, and
// not for the reactor's own eventfd (an unpark is not readiness).

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "reactor/reactor.h"
#include "reactor/tcp.h"
#include "tests/reactor/test_support.h"

namespace pollwake::reactor {
namespace {

using Seen = std::vector<std::pair<int, std::uint32_t>>;

Reactor::ReadinessObserver Collect(Seen* seen) {
  return {[](void* ctx, int fd, std::uint32_t bits) { static_cast<Seen*>(ctx)->emplace_back(fd, bits); },
          seen};
}

bool SawReadable(const Seen& seen, int fd) {
  for (auto [f, bits] : seen) {
    if (f == fd && (bits & kReadable) != 0) return true;
  }
  return false;
}

TEST(ReactorTest, AReadinessObserverSeesEachDeliveredEventAndNoUnpark) {
  testing::Watchdog dog("AReadinessObserverSeesEachDeliveredEventAndNoUnpark");
  Reactor reactor;
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
  TcpStream reader = TcpStream::from_fd(reactor.handle(), fds[1]).value();
  Seen seen;
  reactor.set_readiness_observer(Collect(&seen));

  ASSERT_TRUE(reactor.turn(std::chrono::milliseconds(0)).is_ok());  // the registration's edge
  EXPECT_FALSE(SawReadable(seen, fds[1])) << "readable before anything was written";
  seen.clear();

  reactor.handle().unpark();  // the eventfd: not a descriptor event
  ASSERT_TRUE(reactor.turn(std::chrono::milliseconds(0)).is_ok());
  EXPECT_TRUE(seen.empty()) << "an unpark was reported as readiness";

  ASSERT_EQ(::write(fds[0], "x", 1), 1);
  IoResult<int> handled = reactor.turn(std::nullopt);  // returns: the byte is there
  ASSERT_TRUE(handled.is_ok());
  EXPECT_EQ(static_cast<std::size_t>(handled.value()), seen.size()) << "one call per event";
  EXPECT_TRUE(SawReadable(seen, fds[1]));

  reactor.set_readiness_observer({});  // removed: later turns report to nobody
  seen.clear();
  ASSERT_EQ(::write(fds[0], "y", 1), 1);  // a new arrival: a new edge
  IoResult<int> again = reactor.turn(std::chrono::seconds(5));
  ASSERT_TRUE(again.is_ok());
  EXPECT_GE(again.value(), 1) << "no event to report: the test would prove nothing";
  EXPECT_TRUE(seen.empty());
  ::close(fds[0]);
}

}  // namespace
}  // namespace pollwake::reactor
