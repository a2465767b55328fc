// tests/reactor/tcp_test.cc: TcpListener/TcpStream under both runtimes:
// accept/connect/read/write, errors as values (refused, reset, broken pipe),
// half-close, a client that never reads, timers and cross-thread wakes in the
// one-thread runtime's wait.
#include "reactor/tcp.h"

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "interop/coro/async_fn.h"
#include "poll/oneshot.h"
#include "reactor/runtime.h"
#include "tests/reactor/test_support.h"

namespace pollwake::reactor {
namespace {

using namespace std::chrono_literals;
using testing::echo_once;
using testing::serve_echo;
using testing::Watchdog;

coro::Async<> accept_n(LocalRuntime& rt, TcpListener& l, int n, int* closed) {
  for (int i = 0; i < n; ++i) {
    IoResult<TcpStream> s = co_await l.accept();
    if (s.is_err()) co_return;
    rt.spawn(serve_echo(std::move(s).value(), closed));
  }
}

TEST(TcpTest, EchoRoundTripOnOneThread) {
  Watchdog dog("EchoRoundTripOnOneThread");
  LocalRuntime rt;
  TcpListener l = TcpListener::bind(rt.handle(), SocketAddr::loopback(0)).value();
  SocketAddr addr = l.local_addr().value();
  EXPECT_NE(addr.port(), 0);
  int closed = 0;
  rt.spawn(accept_n(rt, l, 1, &closed));
  EXPECT_EQ(rt.block_on(echo_once(rt.handle(), addr, "hello, reactor")), "hello, reactor");
  // The client closed: the server sees EOF and its task ends.
  rt.block_on(sleep(rt.handle(), 1ms));
  while (closed == 0) rt.block_on(sleep(rt.handle(), 1ms));
  EXPECT_EQ(closed, 1);
}

coro::Async<> accept_n_pool(PoolRuntime& rt, TcpListener& l, int n) {
  for (int i = 0; i < n; ++i) {
    IoResult<TcpStream> s = co_await l.accept();
    if (s.is_err()) co_return;
    rt.spawn(serve_echo(std::move(s).value()));
  }
}

TEST(TcpTest, EchoRoundTripsOnThePool) {
  Watchdog dog("EchoRoundTripsOnThePool");
  PoolRuntime rt(2);
  TcpListener l = TcpListener::bind(rt.handle(), SocketAddr::loopback(0)).value();
  SocketAddr addr = l.local_addr().value();
  const int n = 20;
  rt.spawn(accept_n_pool(rt, l, n));
  std::vector<oneshot::Receiver<std::string>> results;
  for (int i = 0; i < n; ++i) {
    auto [tx, rx] = oneshot::channel<std::string>();
    results.push_back(std::move(rx));
    rt.spawn([](Handle h, SocketAddr a, int i, oneshot::Sender<std::string> tx) -> coro::Async<> {
      std::string got = co_await echo_once(h, a, "msg " + std::to_string(i));
      (void)tx.send(std::move(got));
    }(rt.handle(), addr, i, std::move(tx)));
  }
  for (int i = 0; i < n; ++i) {
    auto r = rt.block_on(std::move(results[i]));
    ASSERT_TRUE(r.is_ok());
    EXPECT_EQ(r.value(), "msg " + std::to_string(i));
  }
}

TEST(TcpTest, ConnectRefusedIsAValue) {
  Watchdog dog("ConnectRefusedIsAValue");
  LocalRuntime rt;
  SocketAddr addr;
  {
    TcpListener l = TcpListener::bind(rt.handle(), SocketAddr::loopback(0)).value();
    addr = l.local_addr().value();
  }  // closed: nobody listens on that port now
  IoResult<TcpStream> c = rt.block_on(TcpStream::connect(rt.handle(), addr));
  ASSERT_TRUE(c.is_err());
  EXPECT_EQ(c.error().kind(), ErrorKind::kConnectionRefused) << c.error().message();
  EXPECT_EQ(rt.reactor().registered_count(), 0u);
}

TEST(TcpTest, ConnectIsInertUntilPolled) {
  LocalRuntime rt;
  { ConnectFuture f = TcpStream::connect(rt.handle(), SocketAddr::loopback(1)); }
  EXPECT_EQ(rt.reactor().registered_count(), 0u);  // no socket was ever made
}

TEST(TcpTest, BindToABusyPortIsAValue) {
  LocalRuntime rt;
  TcpListener a = TcpListener::bind(rt.handle(), SocketAddr::loopback(0)).value();
  IoResult<TcpListener> b = TcpListener::bind(rt.handle(), a.local_addr().value());
  ASSERT_TRUE(b.is_err());
  EXPECT_EQ(b.error().kind(), ErrorKind::kAddrInUse);
  EXPECT_FALSE(SocketAddr::parse("127.0.0.1").has_value());
  EXPECT_FALSE(SocketAddr::parse("localhost:80").has_value());
  EXPECT_FALSE(SocketAddr::parse("127.0.0.1:70000").has_value());
  EXPECT_EQ(SocketAddr::parse("127.0.0.1:8080")->to_string(), "127.0.0.1:8080");
}

TEST(TcpTest, ResetByPeerIsAValue) {
  Watchdog dog("ResetByPeerIsAValue");
  LocalRuntime rt;
  TcpListener l = TcpListener::bind(rt.handle(), SocketAddr::loopback(0)).value();
  SocketAddr addr = l.local_addr().value();
  auto test = [](Handle h, TcpListener& l, SocketAddr addr) -> coro::Async<ErrorKind> {
    TcpStream client = (co_await TcpStream::connect(h, addr)).value();
    TcpStream server = (co_await l.accept()).value();
    // The client aborts: SO_LINGER with a zero timeout makes close() send RST.
    linger lg{1, 0};
    ::setsockopt(client.fd(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    client.close();
    char buf[16];
    IoResult<std::size_t> r = co_await server.read(buf, sizeof buf);
    if (r.is_ok()) co_return ErrorKind::kOther;
    co_return r.error().kind();
  };
  EXPECT_EQ(rt.block_on(test(rt.handle(), l, addr)), ErrorKind::kConnectionReset);
}

TEST(TcpTest, WriteToAClosedPeerIsBrokenPipeNotSigpipe) {
  Watchdog dog("WriteToAClosedPeerIsBrokenPipeNotSigpipe");
  LocalRuntime rt;
  TcpListener l = TcpListener::bind(rt.handle(), SocketAddr::loopback(0)).value();
  SocketAddr addr = l.local_addr().value();
  auto test = [](Handle h, TcpListener& l, SocketAddr addr) -> coro::Async<ErrorKind> {
    TcpStream client = (co_await TcpStream::connect(h, addr)).value();
    TcpStream server = (co_await l.accept()).value();
    server.close();
    std::string chunk(64 * 1024, 'x');
    for (int i = 0; i < 1000; ++i) {  // the first write may still succeed; then RST, EPIPE
      IoResult<Unit> w = co_await client.write_all(chunk);
      if (w.is_err()) co_return w.error().kind();
    }
    co_return ErrorKind::kOther;
  };
  ErrorKind k = rt.block_on(test(rt.handle(), l, addr));
  EXPECT_TRUE(k == ErrorKind::kBrokenPipe || k == ErrorKind::kConnectionReset);
}

TEST(TcpTest, HalfCloseDeliversEofAndTheOtherDirectionStaysOpen) {
  Watchdog dog("HalfCloseDeliversEofAndTheOtherDirectionStaysOpen");
  LocalRuntime rt;
  TcpListener l = TcpListener::bind(rt.handle(), SocketAddr::loopback(0)).value();
  SocketAddr addr = l.local_addr().value();
  auto server = [](TcpListener& l) -> coro::Async<> {
    TcpStream s = (co_await l.accept()).value();
    std::string got;
    char buf[64];
    for (;;) {  // read until the client's FIN
      IoResult<std::size_t> r = co_await s.read(buf, sizeof buf);
      if (r.is_err() || r.value() == 0) break;
      got.append(buf, r.value());
    }
    (void)co_await s.write_all("got " + got);
  };
  rt.spawn(server(l));
  auto client = [](Handle h, SocketAddr addr) -> coro::Async<std::string> {
    TcpStream s = (co_await TcpStream::connect(h, addr)).value();
    (void)co_await s.write_all(std::string_view("abc"));
    if (s.shutdown(Shutdown::kWrite).is_err()) co_return "shutdown failed";
    std::string reply;
    char buf[64];
    for (;;) {
      IoResult<std::size_t> r = co_await s.read(buf, sizeof buf);
      if (r.is_err()) co_return "read error";
      if (r.value() == 0) break;
      reply.append(buf, r.value());
    }
    co_return reply;
  };
  EXPECT_EQ(rt.block_on(client(rt.handle(), addr)), "got abc");
}

TEST(TcpTest, AClientThatNeverReadsDoesNotStallOthers) {
  Watchdog dog("AClientThatNeverReadsDoesNotStallOthers");
  LocalRuntime rt;
  TcpListener l = TcpListener::bind(rt.handle(), SocketAddr::loopback(0)).value();
  SocketAddr addr = l.local_addr().value();
  const int good = 20;
  rt.spawn(accept_n(rt, l, good + 1, nullptr));
  // The bad client writes far more than the socket buffers hold and never
  // reads: the server's echo of it blocks (Pending) on a full send buffer.
  auto bad = [](Handle h, SocketAddr addr, bool* stuck) -> coro::Async<> {
    TcpStream s = (co_await TcpStream::connect(h, addr)).value();
    std::string chunk(256 * 1024, 'b');
    *stuck = true;
    for (;;) {
      if ((co_await s.write_all(chunk)).is_err()) co_return;
    }
  };
  bool stuck = false;
  rt.spawn(bad(rt.handle(), addr, &stuck));
  auto others = [](Handle h, SocketAddr addr, int n) -> coro::Async<int> {
    int ok = 0;
    for (int i = 0; i < n; ++i) {
      if (co_await echo_once(h, addr, "client " + std::to_string(i)) ==
          "client " + std::to_string(i)) {
        ++ok;
      }
    }
    co_return ok;
  };
  rt.block_on(sleep(rt.handle(), 20ms));  // let the bad client fill the buffers
  EXPECT_TRUE(stuck);
  EXPECT_EQ(rt.block_on(others(rt.handle(), addr, good)), good);
}  // the runtime drops the stuck tasks; their sockets close (no leak under ASan)

TEST(TcpTest, SleepAndIoShareOneWait) {
  Watchdog dog("SleepAndIoShareOneWait");
  LocalRuntime rt;
  auto t0 = Clock::now();
  rt.block_on(sleep(rt.handle(), 15ms));
  // A lower bound only: a timer must never fire before its deadline. Load can
  // only make it later, so this cannot flake; no upper bound is asserted.
  EXPECT_GE(Clock::now(), t0 + 15ms);
}

TEST(TcpTest, WakeFromAnotherThreadReachesTheOneThreadRuntime) {
  Watchdog dog("WakeFromAnotherThreadReachesTheOneThreadRuntime");
  LocalRuntime rt;
  for (int round = 0; round < 20; ++round) {
    auto [tx, rx] = oneshot::channel<int>();
    // A spawned task waits on the channel; main waits for the task.
    auto [done_tx, done_rx] = oneshot::channel<int>();
    rt.spawn([](oneshot::Receiver<int> rx, oneshot::Sender<int> done) -> coro::Async<> {
      auto v = co_await std::move(rx);
      (void)done.send(v.is_ok() ? v.value() : -1);
    }(std::move(rx), std::move(done_tx)));
    std::thread sender([tx = std::move(tx), round]() mutable {
      std::this_thread::sleep_for(std::chrono::milliseconds(round % 3));
      (void)tx.send(round);  // wakes a LocalPool task while its thread sits in epoll_wait
    });
    auto got = rt.block_on(std::move(done_rx));
    sender.join();
    ASSERT_TRUE(got.is_ok());
    EXPECT_EQ(got.value(), round);
  }
}

TEST(TcpTest, OperationsOnAClosedStreamAreNotConnected) {
  LocalRuntime rt;
  TcpStream s;
  char buf[4];
  IoResult<std::size_t> r = rt.block_on(s.read(buf, sizeof buf));
  ASSERT_TRUE(r.is_err());
  EXPECT_EQ(r.error().kind(), ErrorKind::kNotConnected);
  EXPECT_TRUE(s.shutdown(Shutdown::kBoth).is_err());
}

struct SocketPair {
  int a = -1, b = -1;
  SocketPair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    a = fds[0];
    b = fds[1];  // adopted by a TcpStream in the tests below
  }
  ~SocketPair() { ::close(a); }
};

// Before futures held their own reference, the pending read pointed at the
// moved-from stream and ended with kNotConnected.
TEST(TcpTest, MovingAStreamKeepsItsPendingReadWorking) {
  Watchdog dog("MovingAStreamKeepsItsPendingReadWorking");
  LocalRuntime rt;
  SocketPair p;
  auto s = std::make_unique<TcpStream>(TcpStream::from_fd(rt.handle(), p.b).value());
  char buf[8] = {};
  ReadFuture f = s->read(buf, sizeof buf);
  Waker w = Waker::noop();
  Context cx = Context::from_waker(w);
  EXPECT_TRUE(f.poll(cx).is_pending());  // nothing to read yet
  TcpStream moved = std::move(*s);       // e.g. into a task or a container...
  s.reset();                             // ...and the old object is gone
  ASSERT_EQ(::write(p.a, "hi", 2), 2);
  IoResult<std::size_t> r = rt.block_on(std::move(f));
  ASSERT_TRUE(r.is_ok()) << r.error().message();
  EXPECT_EQ(r.value(), 2u);
  EXPECT_EQ(std::string(buf, 2), "hi");
  EXPECT_GE(moved.fd(), 0);
}

TEST(TcpTest, ClosingAStreamEndsItsPendingReadWithNotConnected) {
  Watchdog dog("ClosingAStreamEndsItsPendingReadWithNotConnected");
  LocalRuntime rt;
  SocketPair p;
  char buf[8];
  std::optional<ReadFuture> f;
  {
    TcpStream s = TcpStream::from_fd(rt.handle(), std::exchange(p.b, -1)).value();
    f.emplace(s.read(buf, sizeof buf));
    Waker w = Waker::noop();
    Context cx = Context::from_waker(w);
    EXPECT_TRUE(f->poll(cx).is_pending());
  }  // the stream is dropped (closed) while its read is pending
  // The socket is shut down; its number stays reserved while the read
  // future lives (ScheduledIo::add_user). New descriptors are opened anyway:
  // whatever number they get, the pending read must not touch them.
  SocketPair reuse;
  ASSERT_EQ(::write(reuse.a, "x", 1), 1);
  IoResult<std::size_t> r = rt.block_on(std::move(*f));
  ASSERT_TRUE(r.is_err());
  EXPECT_EQ(r.error().kind(), ErrorKind::kNotConnected);
  ::close(reuse.b);
}

// read(), write() and write_all() only read the stream (tcp.h), so tasks on
// two threads may make futures from one shared stream at once, as Rust lets
// two tasks use one `&TcpStream`. Each future is a user of the descriptor,
// counted atomically: after many made and dropped on two threads at once,
// closing the stream closes its fd at once (a use counted twice would keep
// it open). The sharper check is TSan's: a count or a stock of uses kept in
// the stream without atomic operations is a data race it reports here
// (a lost update itself is too rare to rely on). Bounded: 200,000 futures a
// thread.
TEST(TcpTest, FuturesMadeFromOneStreamOnTwoThreadsAtOnceAreCountedExactly) {
  Watchdog dog("FuturesMadeFromOneStreamOnTwoThreadsAtOnceAreCountedExactly");
  Reactor r;
  SocketPair p;
  const int fd = std::exchange(p.b, -1);
  TcpStream s = TcpStream::from_fd(r.handle(), fd).value();
  constexpr int kFutures = 200000;  // a thread; enough to overlap under -O2
  std::atomic<int> started{0};
  char rbuf[8];
  const char wbuf[8] = {};
  auto make_and_drop = [&](bool reader) {
    started.fetch_add(1);
    while (started.load() < 2) std::this_thread::yield();
    for (int i = 0; i < kFutures; ++i) {
      if (reader) {
        ReadFuture f = s.read(rbuf, sizeof rbuf);
      } else {
        WriteAllFuture f = s.write_all(wbuf, sizeof wbuf);
      }
    }
  };
  std::thread reader(make_and_drop, true);
  std::thread writer(make_and_drop, false);
  reader.join();
  writer.join();
  s.close();
  EXPECT_FALSE(testing::fd_is_open(fd)) << "a use was counted twice";
}

// pollwake's rule for every future (poll/poll.h): a second poll after Ready
// throws FuturePolledAfterCompletion instead of repeating the syscall (a
// read that consumed bytes, a write that sent them, an accept that took a
// connection) or returning a stale result.
TEST(TcpTest, PollingACompletedSocketFutureThrows) {
  Watchdog dog("PollingACompletedSocketFutureThrows");
  LocalRuntime rt;
  Waker w = Waker::noop();
  Context cx = Context::from_waker(w);
  TcpListener l = TcpListener::bind(rt.handle(), SocketAddr::loopback(0)).value();
  TcpStream client = rt.block_on(TcpStream::connect(rt.handle(), l.local_addr().value())).value();
  AcceptFuture accept = l.accept();
  Poll<IoResult<TcpStream>> accepted = accept.poll(cx);
  while (accepted.is_pending()) {
    ASSERT_TRUE(rt.reactor().turn(1s).is_ok());
    accepted = accept.poll(cx);
  }
  ASSERT_TRUE(accepted.value().is_ok());
  TcpStream server = std::move(accepted).value().value();
  EXPECT_THROW((void)accept.poll(cx), FuturePolledAfterCompletion);

  WriteFuture write = client.write("ab", 2);
  ASSERT_TRUE(write.poll(cx).is_ready());
  EXPECT_THROW((void)write.poll(cx), FuturePolledAfterCompletion);
  WriteAllFuture write_all = client.write_all("cd");
  ASSERT_TRUE(write_all.poll(cx).is_ready());
  EXPECT_THROW((void)write_all.poll(cx), FuturePolledAfterCompletion);
  ASSERT_TRUE(client.shutdown(Shutdown::kWrite).is_ok());

  char buf[8];
  ReadFuture read = server.read(buf, sizeof buf);
  Poll<IoResult<std::size_t>> got = read.poll(cx);
  while (got.is_pending()) {  // some of "abcd", or EOF
    ASSERT_TRUE(rt.reactor().turn(1s).is_ok());
    got = read.poll(cx);
  }
  ASSERT_TRUE(got.value().is_ok());
  EXPECT_THROW((void)read.poll(cx), FuturePolledAfterCompletion);

  // The early "not connected" completion counts too.
  TcpStream closed;
  ReadFuture on_closed = closed.read(buf, sizeof buf);
  ASSERT_TRUE(on_closed.poll(cx).is_ready());
  EXPECT_THROW((void)on_closed.poll(cx), FuturePolledAfterCompletion);
}

TEST(TcpTest, MovingAListenerKeepsItsPendingAcceptWorking) {
  Watchdog dog("MovingAListenerKeepsItsPendingAcceptWorking");
  LocalRuntime rt;
  auto l = std::make_unique<TcpListener>(
      TcpListener::bind(rt.handle(), SocketAddr::loopback(0)).value());
  SocketAddr addr = l->local_addr().value();
  AcceptFuture f = l->accept();
  Waker w = Waker::noop();
  Context cx = Context::from_waker(w);
  EXPECT_TRUE(f.poll(cx).is_pending());
  TcpListener moved = std::move(*l);
  l.reset();
  rt.spawn([](Handle h, SocketAddr a) -> coro::Async<> {
    IoResult<TcpStream> c = co_await TcpStream::connect(h, a);
    EXPECT_TRUE(c.is_ok());
  }(rt.handle(), addr));
  IoResult<TcpStream> r = rt.block_on(std::move(f));
  ASSERT_TRUE(r.is_ok()) << r.error().message();
  moved.close();
  IoResult<TcpStream> after = rt.block_on(moved.accept());
  ASSERT_TRUE(after.is_err());
  EXPECT_EQ(after.error().kind(), ErrorKind::kNotConnected);
}

TEST(TcpTest, RuntimeDroppedWithLiveConnectionsLeaksNothing) {
  Watchdog dog("RuntimeDroppedWithLiveConnectionsLeaksNothing");
  const int fds_before = testing::open_fd_count();
  ASSERT_GE(fds_before, 0);
  auto rt = std::make_unique<LocalRuntime>();
  TcpListener l = TcpListener::bind(rt->handle(), SocketAddr::loopback(0)).value();
  SocketAddr addr = l.local_addr().value();
  rt->spawn(accept_n(*rt, l, 5, nullptr));
  for (int i = 0; i < 5; ++i) {
    rt->spawn([](Handle h, SocketAddr a) -> coro::Async<> {
      TcpStream s = (co_await TcpStream::connect(h, a)).value();
      char buf[8];
      (void)co_await s.read(buf, sizeof buf);  // never answered
    }(rt->handle(), addr));
  }
  rt->block_on(sleep(rt->handle(), 10ms));
  EXPECT_GE(rt->reactor().registered_count(), 2u);
  rt.reset();  // tasks (and their sockets) dropped, then the reactor
  // `l` outlives its reactor: its operations now say so.
  LocalRuntime other;
  IoResult<TcpStream> r = other.block_on(l.accept());
  ASSERT_TRUE(r.is_err());
  EXPECT_EQ(r.error().kind(), ErrorKind::kReactorGone);
  // Every socket of the dropped tasks is closed; the listener's close drops
  // the last Handle, which closes the epoll fd and the eventfd. Only `other`
  // (an epoll fd and an eventfd) remains.
  l.close();
  EXPECT_EQ(testing::open_fd_count(), fds_before + 2) << "descriptors leaked";
}

}  // namespace
}  // namespace pollwake::reactor
