// tests/reactor/syscall_fault_test.cc: error paths of connect(2) and
// accept4(2) that loopback cannot produce on demand (a signal interrupting
// connect; accept's per-connection network errors). This binary is linked
// with `-Wl,--wrap=connect,--wrap=accept4` (tests/reactor/BUILD): reactor/'s
// calls go to the __wrap_ functions below, which fail on request and
// otherwise call the real syscall. Production code has no hook.
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <string>

#include <gtest/gtest.h>

#include "interop/coro/async_fn.h"
#include "reactor/runtime.h"
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

}  // namespace
}  // namespace pollwake::reactor
