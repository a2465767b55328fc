// tests/reactor/syscall_fault_test.cc: paths that loopback cannot produce
// on demand: a signal interrupting connect; accept's per-connection network
// errors; epoll_wait failing; a stream closed on one thread while another
// thread's read is inside recv(2); and how many recv calls a read makes.
// This binary is linked with `-Wl,--wrap=` for connect, accept4, epoll_wait,
// recv and shutdown (tests/reactor/BUILD): reactor/'s calls go to the __wrap_
// functions below, which fail, pause or count on request and otherwise call
// the real syscall. Production code has no hook.
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>

#include <gtest/gtest.h>

#include "interop/coro/async_fn.h"
#include "reactor/runtime.h"
#include "poll/ready.h"
#include "reactor/tcp.h"
#include "tests/reactor/test_support.h"

namespace {

// Errors to return from the next calls, in order (0 ends the list). Written
// and read on the test's thread only (the one-thread runtime).
int g_accept_errors[16];
int g_accept_next = 0;
int g_accept_faults_served = 0;
// connect: start the real connection, then say EINTR (what a signal
// arriving during a blocking connect looks like; the kernel goes on).
bool g_connect_eintr = false;
int g_connect_faults_served = 0;
// epoll_wait: fail the next call with this errno (0: pass through). Atomic:
// PoolRuntime's reactor thread reads it.
std::atomic<int> g_epoll_wait_error{0};
// recv: count the calls on one fd.
std::atomic<int> g_recv_count_fd{-1};
std::atomic<int> g_recv_calls{0};

// Holds the next call of one wrapped syscall on one fd at its entry until
// the test lets it go (the test's threads share it).
class SyscallPause {
 public:
  // Test side: hold the next call on `fd`.
  void arm(int fd) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      held_ = false;
      go_ = false;
    }
    fd_ = fd;
  }
  // Wrapper side: if this call is the one, wait here until go().
  void hold_if(int fd) {
    int expected = fd;
    if (fd < 0 || !fd_.compare_exchange_strong(expected, -1)) return;
    std::unique_lock<std::mutex> lock(mu_);
    held_ = true;
    cv_.notify_all();
    cv_.wait(lock, [this] { return go_; });
  }
  // Test side: wait until the call is held (the watchdog bounds it).
  void wait_held() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return held_; });
  }
  void go() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      go_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::atomic<int> fd_{-1};
  std::mutex mu_;
  std::condition_variable cv_;
  bool held_ = false;  // under mu_
  bool go_ = false;    // under mu_
};
SyscallPause g_recv_pause;
SyscallPause g_shutdown_pause;

}  // namespace

extern "C" {
int __real_accept4(int fd, sockaddr* addr, socklen_t* len, int flags);
int __real_connect(int fd, const sockaddr* addr, socklen_t len);

int __wrap_accept4(int fd, sockaddr* addr, socklen_t* len, int flags) {
  if (g_accept_errors[g_accept_next] != 0) {
    ++g_accept_faults_served;
    errno = g_accept_errors[g_accept_next++];
    return -1;
  }
  return __real_accept4(fd, addr, len, flags);
}

int __real_epoll_wait(int epfd, epoll_event* events, int max, int timeout);
ssize_t __real_recv(int fd, void* buf, size_t len, int flags);

int __wrap_epoll_wait(int epfd, epoll_event* events, int max, int timeout) {
  if (int e = g_epoll_wait_error.exchange(0)) {
    errno = e;
    return -1;
  }
  return __real_epoll_wait(epfd, events, max, timeout);
}

ssize_t __wrap_recv(int fd, void* buf, size_t len, int flags) {
  if (fd == g_recv_count_fd.load()) g_recv_calls.fetch_add(1);
  g_recv_pause.hold_if(fd);
  return __real_recv(fd, buf, len, flags);
}

int __real_shutdown(int fd, int how);
int __wrap_shutdown(int fd, int how) {
  g_shutdown_pause.hold_if(fd);
  return __real_shutdown(fd, how);
}

int __wrap_connect(int fd, const sockaddr* addr, socklen_t len) {
  int r = __real_connect(fd, addr, len);
  if (g_connect_eintr && (r == 0 || errno == EINPROGRESS)) {
    ++g_connect_faults_served;
    errno = EINTR;
    return -1;
  }
  return r;
}
}

namespace pollwake::reactor {
namespace {

using testing::SocketPair;
using testing::Watchdog;

void set_accept_faults(std::initializer_list<int> errs) {
  int i = 0;
  for (int e : errs) g_accept_errors[i++] = e;
  g_accept_errors[i] = 0;
  g_accept_next = 0;
  g_accept_faults_served = 0;
}

// Without the retry, the first of these ended the accept with an error.
TEST(SyscallFaultTest, AcceptRetriesPerConnectionErrors) {
  Watchdog dog("AcceptRetriesPerConnectionErrors");
  LocalRuntime rt;
  TcpListener l = TcpListener::bind(rt.handle(), SocketAddr::loopback(0)).value();
  SocketAddr addr = l.local_addr().value();
  set_accept_faults({ECONNABORTED, EINTR, EPROTO, ENETDOWN, ENOPROTOOPT, EHOSTDOWN,
                     EHOSTUNREACH, EOPNOTSUPP, ENETUNREACH});
  rt.spawn([](Handle h, SocketAddr a) -> coro::Async<> {
    IoResult<TcpStream> c = co_await TcpStream::connect(h, a);
    EXPECT_TRUE(c.is_ok());
    char b;
    (void)co_await c.value().read(&b, 1);  // held open until the server closes
  }(rt.handle(), addr));
  IoResult<TcpStream> s = rt.block_on(l.accept());
  ASSERT_TRUE(s.is_ok()) << s.error().message();
  EXPECT_EQ(g_accept_faults_served, 9);
}

TEST(SyscallFaultTest, AcceptReturnsListenerErrorsAsValuesAndKeepsServing) {
  Watchdog dog("AcceptReturnsListenerErrorsAsValuesAndKeepsServing");
  LocalRuntime rt;
  TcpListener l = TcpListener::bind(rt.handle(), SocketAddr::loopback(0)).value();
  SocketAddr addr = l.local_addr().value();
  set_accept_faults({ENFILE, ENOBUFS});
  rt.spawn([](Handle h, SocketAddr a) -> coro::Async<> {
    IoResult<TcpStream> c = co_await TcpStream::connect(h, a);
    EXPECT_TRUE(c.is_ok());
    char b;
    (void)co_await c.value().read(&b, 1);
  }(rt.handle(), addr));
  IoResult<TcpStream> first = rt.block_on(l.accept());
  ASSERT_TRUE(first.is_err());
  EXPECT_EQ(first.error().raw_os_error(), ENFILE);
  IoResult<TcpStream> second = rt.block_on(l.accept());
  ASSERT_TRUE(second.is_err());
  EXPECT_EQ(second.error().raw_os_error(), ENOBUFS);
  // The connection stayed queued: the next accept takes it.
  IoResult<TcpStream> third = rt.block_on(l.accept());
  ASSERT_TRUE(third.is_ok()) << third.error().message();
}

// Without the EINTR case, connect ended with "Interrupted system call".
TEST(SyscallFaultTest, InterruptedConnectCompletesAsynchronously) {
  Watchdog dog("InterruptedConnectCompletesAsynchronously");
  LocalRuntime rt;
  TcpListener l = TcpListener::bind(rt.handle(), SocketAddr::loopback(0)).value();
  SocketAddr addr = l.local_addr().value();
  g_connect_eintr = true;
  g_connect_faults_served = 0;
  IoResult<TcpStream> c = rt.block_on(TcpStream::connect(rt.handle(), addr));
  g_connect_eintr = false;
  EXPECT_EQ(g_connect_faults_served, 1);
  ASSERT_TRUE(c.is_ok()) << c.error().message();
  IoResult<TcpStream> s = rt.block_on(l.accept());
  ASSERT_TRUE(s.is_ok());
  // And it is a working connection.
  IoResult<Unit> w = rt.block_on(c.value().write_all("ok"));
  ASSERT_TRUE(w.is_ok());
  char buf[2];
  IoResult<std::size_t> r = rt.block_on(s.value().read(buf, 2));
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(std::string(buf, r.value()), std::string("ok").substr(0, r.value()));
}

TEST(SyscallFaultTest, InterruptedConnectThatFailsReportsTheRealError) {
  Watchdog dog("InterruptedConnectThatFailsReportsTheRealError");
  LocalRuntime rt;
  // A port with nothing listening: bind one, note it, close it.
  SocketAddr addr;
  {
    TcpListener l = TcpListener::bind(rt.handle(), SocketAddr::loopback(0)).value();
    addr = l.local_addr().value();
  }
  g_connect_eintr = true;
  g_connect_faults_served = 0;
  IoResult<TcpStream> c = rt.block_on(TcpStream::connect(rt.handle(), addr));
  g_connect_eintr = false;
  ASSERT_TRUE(c.is_err());
  // Loopback refuses at once (connect returns ECONNREFUSED, not in progress,
  // so the wrapper does not interfere) or asynchronously through SO_ERROR
  // after the EINTR: either way the caller sees the refusal.
  EXPECT_EQ(c.error().kind(), ErrorKind::kConnectionRefused);
}

// ----------------------------------------------------------------- epoll_wait

// Only EINTR is retryable; before, every failure was taken for EINTR, so a
// broken epoll fd made the runtime spin on a turn that never waits.
TEST(SyscallFaultTest, TurnRetriesOnlyEintrAndReturnsOtherErrors) {
  Watchdog dog("TurnRetriesOnlyEintrAndReturnsOtherErrors");
  Reactor r;
  g_epoll_wait_error = EINTR;
  IoResult<int> interrupted = r.turn(std::chrono::milliseconds(1));
  ASSERT_TRUE(interrupted.is_ok()) << interrupted.error().message();
  EXPECT_EQ(interrupted.value(), 0);
  g_epoll_wait_error = EBADF;
  IoResult<int> broken = r.turn(std::chrono::milliseconds(1));
  ASSERT_TRUE(broken.is_err());
  EXPECT_EQ(broken.error().raw_os_error(), EBADF);
  // The failure was that turn's; the reactor itself is still usable.
  r.handle().unpark();
  EXPECT_TRUE(r.turn(std::nullopt).is_ok());
}

TEST(SyscallFaultTest, LocalRuntimeThrowsWhenATurnFails) {
  Watchdog dog("LocalRuntimeThrowsWhenATurnFails");
  LocalRuntime rt;
  g_epoll_wait_error = EINTR;  // a signal: invisible to the caller
  rt.block_on(sleep(rt.handle(), std::chrono::milliseconds(2)));
  g_epoll_wait_error = EINVAL;
  try {
    rt.block_on(sleep(rt.handle(), std::chrono::milliseconds(2)));
    ADD_FAILURE() << "block_on returned although epoll_wait failed";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EINVAL);
  }
  rt.block_on(sleep(rt.handle(), std::chrono::milliseconds(2)));  // still usable
}

TEST(SyscallFaultDeathTest, PoolRuntimeAbortsWhenATurnFails) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        g_epoll_wait_error = EBADF;
        PoolRuntime rt(1);
        rt.block_on(pending<Unit>());  // never returns: the reactor thread aborts
      },
      "PoolRuntime: epoll_wait failed");
}

// ----------------------------------------------------------------------- recv

// Tasks on a PoolRuntime sharing a stream: one is inside recv() on it when
// another closes it, and a new socket is opened at that moment (an accept).
// If the close freed the number at once, the new socket would get it (the
// lowest free number) and the old read's recv() would take the new socket's
// data. The read future is a user of the fd (ScheduledIo::add_user): the
// number stays reserved until it is dropped.
TEST(SyscallFaultTest, AStreamClosedDuringARecvDoesNotLendItsFdNumberToANewSocket) {
  Watchdog dog("AStreamClosedDuringARecvDoesNotLendItsFdNumberToANewSocket");
  Reactor r;
  SocketPair old_pair;
  TcpStream s = TcpStream::from_fd(r.handle(), old_pair.a).value();
  const int old_fd = old_pair.a;
  old_pair.a = -1;  // the stream owns it now
  ASSERT_EQ(::write(old_pair.b, "old", 3), 3);
  ASSERT_TRUE(r.turn(std::chrono::seconds(1)).is_ok());  // readable

  char buf[16];
  std::optional<ReadFuture> read(s.read(buf, sizeof buf));
  g_recv_pause.arm(old_fd);
  std::optional<IoResult<std::size_t>> got;
  std::thread worker([&] {  // a worker polling the reading task
    Waker w = Waker::noop();
    Context cx = Context::from_waker(w);
    Poll<IoResult<std::size_t>> p = read->poll(cx);
    if (p.is_ready()) got = std::move(p).value();
  });
  g_recv_pause.wait_held();
  s.close();              // another task closes the shared stream...
  SocketPair fresh;       // ...and a new connection is accepted
  EXPECT_NE(fresh.a, old_fd) << "the closed stream's fd number was reused during its recv";
  EXPECT_NE(fresh.b, old_fd) << "the closed stream's fd number was reused during its recv";
  ASSERT_EQ(::write(fresh.a, "NEW", 3), 3);  // what a misdirected recv would take
  ASSERT_EQ(::write(fresh.b, "NEW", 3), 3);
  g_recv_pause.go();
  worker.join();
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->is_ok()) << got->error().message();
  EXPECT_EQ(std::string(buf, got->value()), "old");  // the old socket's bytes
  EXPECT_TRUE(testing::fd_is_open(old_fd)) << "freed while the read future is alive";
  read.reset();
  EXPECT_FALSE(testing::fd_is_open(old_fd)) << "not closed when its last future was dropped";
}

// A stream closed on one worker while a read future made from it is alive
// on another: the close shuts the socket down (the peer sees it) and leaves
// the number reserved for the future. The shutdown must happen while the
// owner still counts as a user: if the owner gave up its use first, the
// future could be dropped on the other worker in between, close the fd,
// the number could go to a new socket (an accept on a third worker), and
// the owner's shutdown would cut that socket off. The owner is held at the
// entry of shutdown(2) while the other two steps happen.
TEST(SyscallFaultTest, ACloseNeverShutsDownASocketThatReusedItsNumber) {
  Watchdog dog("ACloseNeverShutsDownASocketThatReusedItsNumber");
  Reactor r;
  SocketPair old_pair;
  TcpStream s = TcpStream::from_fd(r.handle(), old_pair.a).value();
  const int old_fd = old_pair.a;
  old_pair.a = -1;  // the stream owns it now
  char buf[8];
  std::optional<ReadFuture> read(s.read(buf, sizeof buf));  // a user of the fd
  g_shutdown_pause.arm(old_fd);
  std::thread owner([&] { s.close(); });  // a worker closes the stream
  g_shutdown_pause.wait_held();
  read.reset();      // another worker drops the read future meanwhile
  SocketPair fresh;  // and a new socket may get a freed number
  g_shutdown_pause.go();
  owner.join();
  if (fresh.a != old_fd && fresh.b != old_fd) {
    EXPECT_FALSE(testing::fd_is_open(old_fd)) << "open after its close and its last future";
  }
  // Whatever numbers the new pair got, both of its ends still work.
  char c;
  EXPECT_EQ(::send(fresh.a, "x", 1, MSG_NOSIGNAL), 1) << "the new socket was shut down";
  EXPECT_EQ(::recv(fresh.b, &c, 1, 0), 1) << "the new socket was shut down";
  EXPECT_EQ(::send(fresh.b, "y", 1, MSG_NOSIGNAL), 1) << "the new socket was shut down";
  EXPECT_EQ(::recv(fresh.a, &c, 1, 0), 1) << "the new socket was shut down";
}

// How many recv calls a read makes (tokio 1.24's PollEvented::poll_read): a
// short read proves the socket's buffer is drained, so it clears the read
// readiness and the next read waits for the reactor without a recv that
// would only say EAGAIN; a full read keeps the readiness (more may be
// there), so the next read tries recv, and its EAGAIN clears it.
TEST(SyscallFaultTest, AShortReadClearsReadinessAndAFullOneKeepsItUntilEagain) {
  Watchdog dog("AShortReadClearsReadinessAndAFullOneKeepsItUntilEagain");
  Reactor r;
  SocketPair p;
  TcpStream s = TcpStream::from_fd(r.handle(), p.a).value();
  g_recv_count_fd = p.a;
  g_recv_calls = 0;
  p.a = -1;
  Waker w = Waker::noop();
  Context cx = Context::from_waker(w);
  char buf[8];

  ASSERT_EQ(::write(p.b, "abc", 3), 3);
  ASSERT_TRUE(r.turn(std::chrono::seconds(1)).is_ok());
  ReadFuture short_read = s.read(buf, sizeof buf);
  Poll<IoResult<std::size_t>> got = short_read.poll(cx);
  ASSERT_TRUE(got.is_ready());
  EXPECT_EQ(got.value().value(), 3u);
  EXPECT_EQ(g_recv_calls.load(), 1);
  ReadFuture after_short = s.read(buf, sizeof buf);
  EXPECT_TRUE(after_short.poll(cx).is_pending());
  EXPECT_EQ(g_recv_calls.load(), 1) << "a read after a short read called recv";

  ASSERT_EQ(::write(p.b, "12345678", 8), 8);  // exactly one buffer
  ASSERT_TRUE(r.turn(std::chrono::seconds(1)).is_ok());
  got = after_short.poll(cx);
  ASSERT_TRUE(got.is_ready());
  EXPECT_EQ(got.value().value(), 8u);
  EXPECT_EQ(g_recv_calls.load(), 2);
  ReadFuture after_full = s.read(buf, sizeof buf);
  EXPECT_TRUE(after_full.poll(cx).is_pending());
  EXPECT_EQ(g_recv_calls.load(), 3) << "a read after a full read did not try recv";
  ReadFuture after_eagain = s.read(buf, sizeof buf);
  EXPECT_TRUE(after_eagain.poll(cx).is_pending());
  EXPECT_EQ(g_recv_calls.load(), 3) << "EAGAIN did not clear the readiness";
  g_recv_count_fd = -1;
}

}  // namespace
}  // namespace pollwake::reactor
