// tests/record/readiness_test.cc: with the recorder compiled in
// (--config=record), a recorded LocalRuntime shows what the reactor did:
// each readiness a turn delivered (fd and what it became) on the thread's
// track, and the runtime's sleep in epoll_wait as a park. Without the
// recorder compiled in there are no hooks to record through: skipped.

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "executor/record/hooks.h"
#include "executor/record/recorder.h"
#include "gtest/gtest.h"
#include "interop/coro/async_fn.h"
#include "reactor/runtime.h"
#include "reactor/tcp.h"
#include "tests/support/watchdog.h"

namespace pollwake::record {
namespace {

#if defined(POLLWAKE_RECORD) && POLLWAKE_RECORD

coro::Async<std::size_t> ReadSome(reactor::TcpStream& s) {
  char buf[8];
  reactor::IoResult<std::size_t> r = co_await s.read(buf, sizeof buf);
  co_return r.is_ok() ? r.value() : 0;
}

TEST(RecorderReadinessTest, ALocalRuntimeRecordsReadinessAndItsSleep) {
  testing::Watchdog dog("a recorded LocalRuntime waiting for a byte");
  Recorder rec;  // outlives the runtime and its tasks
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
  std::size_t got = 0;
  {
    reactor::LocalRuntime rt;
    rec.attach_to(rt);
    reactor::TcpStream reader = reactor::TcpStream::from_fd(rt.handle(), fds[1]).value();
    // Writes once the runtime has gone to sleep in epoll_wait (a turn that
    // may block has begun), so that the byte arrives as readiness in that
    // turn; bounded, and the read below completes either way.
    std::thread writer([&] {
      for (int i = 0; i < 5000 && rt.reactor().turn_counts().may_block == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      (void)::write(fds[0], "x", 1);  // the read below fails the test if it is lost
    });
    std::size_t n = rt.block_on(ReadSome(reader));
    got = n;
    writer.join();
    rec.detach(Recorder::key_of(rt));
  }
  dog.stop();
  EXPECT_EQ(got, 1u);
  int readable = 0, parks = 0;
  for (const Event& e : rec.events()) {
    if (e.kind == EventKind::kReadiness && e.other == static_cast<std::uint64_t>(fds[1]) &&
        (e.readiness & kReadinessRead) != 0) {
      ++readable;
    }
    if (e.kind == EventKind::kPark) ++parks;
  }
  EXPECT_GE(readable, 1) << "the byte's readiness was not recorded";
  EXPECT_GE(parks, 1) << "the sleep in epoll_wait was not recorded as a park";
  std::string json = rec.chrome_trace_json();
  EXPECT_NE(json.find("\"fd " + std::to_string(fds[1]) + " ready: read"), std::string::npos) << json;
  ::close(fds[0]);
}

// PoolRuntime: the reactor turns on its own driver thread, which reports
// the readiness while workers poll and the recorder is attached and
// detached from the test's thread.
TEST(RecorderReadinessTest, APoolRuntimesDriverRecordsReadiness) {
  testing::Watchdog dog("a recorded PoolRuntime waiting for a byte");
  Recorder rec;
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
  std::size_t got = 0;
  {
    reactor::PoolRuntime rt(1);
    rec.attach_to(rt);
    reactor::TcpStream reader = reactor::TcpStream::from_fd(rt.handle(), fds[1]).value();
    std::thread writer([&] { (void)::write(fds[0], "x", 1); });
    got = rt.block_on(ReadSome(reader));  // on this thread; the driver wakes it
    writer.join();
    rec.detach(Recorder::key_of(rt));
  }
  dog.stop();
  EXPECT_EQ(got, 1u);
  int readable = 0;
  for (const Event& e : rec.events()) {
    if (e.kind == EventKind::kReadiness && e.other == static_cast<std::uint64_t>(fds[1]) &&
        (e.readiness & kReadinessRead) != 0) {
      ++readable;
    }
  }
  EXPECT_GE(readable, 1) << "the driver's readiness was not recorded";
  ::close(fds[0]);
}

#else

TEST(RecorderReadinessTest, APoolRuntimesDriverRecordsReadiness) {
  GTEST_SKIP() << "the runtimes record only with the recorder compiled in: "
                  "bazel test --config=record //tests/record:readiness_test";
}

TEST(RecorderReadinessTest, ALocalRuntimeRecordsReadinessAndItsSleep) {
  GTEST_SKIP() << "the runtimes record only with the recorder compiled in: "
                  "bazel test --config=record //tests/record:readiness_test";
}

#endif

}  // namespace
}  // namespace pollwake::record
