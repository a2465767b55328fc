// examples/15_echo.cc: an echo server and its client in one process, over
// loopback, on the one-thread runtime: the reactor wakes the task whose
// socket became ready, the LocalPool polls it, and when nothing is ready the
// thread sleeps in epoll_wait.
//
//   bash .ci/tour.sh 15        (or: bazel run //examples:15_echo)
//
// The Rust program this example mirrors (tokio, current-thread runtime):
//
//   let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
//   let listener = rt.block_on(TcpListener::bind("127.0.0.1:0"))?;
//   rt.spawn(async move {                       // the server: one connection
//       let (mut s, _) = listener.accept().await?;
//       let mut buf = [0; 64];
//       loop {
//           let n = s.read(&mut buf).await?;
//           if n == 0 { break; }                 // the client shut down its side
//           s.write_all(&buf[..n]).await?;
//       }
//   });
//   let mut c = rt.block_on(TcpStream::connect(addr))?;
//   for msg in ["ping", "hello", "bye"] {
//       rt.block_on(c.write_all(msg.as_bytes()))?;
//       let n = rt.block_on(c.read(&mut buf))?;  // the echo
//   }
//   c.shutdown().await?;                         // FIN: the server sees EOF
//
// What to watch: every read starts Pending (the bytes are not there yet, or
// the reactor has not seen them yet); the waker is then held by the reactor,
// not by anyone who will "send" a value: the operating system is the one who
// wakes. `Traced` prints each poll of the futures it wraps.
//
// Each trace line is numbered; `// (n)` marks the statement that prints [n].
// examples/15_echo.expected holds the output, and a test compares it.

#include <cstdio>
#include <string>
#include <utility>

#include "interop/coro/async_fn.h"
#include "poll/context.h"
#include "poll/poll.h"
#include "reactor/runtime.h"
#include "reactor/tcp.h"

using pollwake::Context;
using pollwake::OutputOf;
using pollwake::Poll;
using pollwake::Unit;
using pollwake::coro::Async;
using pollwake::reactor::IoResult;
using pollwake::reactor::LocalRuntime;
using pollwake::reactor::Shutdown;
using pollwake::reactor::SocketAddr;
using pollwake::reactor::TcpListener;
using pollwake::reactor::TcpStream;

namespace {

int g_step = 0;
void trace(const char* who, const std::string& text) {
  std::printf("[%d] %s: %s\n", ++g_step, who, text.c_str());
}

// [START traced]
// Traced: polls the wrapped future and prints each Pending, so the trace
// shows where a task gave its waker to the reactor.
template <class F>
class Traced {
 public:
  using Output = OutputOf<F>;
  Traced(const char* who, const char* what, F f) : who_(who), what_(what), f_(std::move(f)) {}
  Poll<Output> poll(Context& cx) {
    Poll<Output> p = f_.poll(cx);
    // (3), (4), (7), (9), (11), (14), (16), (19), (21), (24)
    if (p.is_pending()) trace(who_, std::string(what_) + " -> Pending (waker held by the reactor)");
    return p;
  }

 private:
  const char* who_;
  const char* what_;
  F f_;
};
// [END traced]

template <class F>
Traced<F> traced(const char* who, const char* what, F f) {
  return Traced<F>(who, what, std::move(f));
}

// [START server]
Async<> server(TcpListener& listener) {
  IoResult<TcpStream> accepted = co_await traced("server", "accept", listener.accept());
  if (accepted.is_err()) co_return;
  TcpStream s = std::move(accepted).value();
  trace("server", "accepted a connection");  // (8)
  char buf[64];
  for (;;) {
    IoResult<std::size_t> n = co_await traced("server", "read", s.read(buf, sizeof buf));
    if (n.is_err() || n.value() == 0) break;
    trace("server", "read '" + std::string(buf, n.value()) + "', echoing it");  // (10), (15), (20)
    if ((co_await s.write_all(buf, n.value())).is_err()) break;
  }
  trace("server", "read 0 bytes: the client shut down its side; closing");  // (25)
}
// [END server]

}  // namespace

int main() {
  LocalRuntime rt;
  TcpListener listener = TcpListener::bind(rt.handle(), SocketAddr::loopback(0)).value();
  SocketAddr addr = listener.local_addr().value();
  trace("main", "listening on 127.0.0.1 (a port the kernel chose)");  // (1)
  rt.spawn(server(listener));
  trace("main", "spawned the server task; it has not run (futures are inert)");  // (2)

  // The first poll of connect, then of the server's accept: both Pending.
  // block_on returns as soon as connect is ready, before the server's task
  // has run again: it accepts during the next block_on.
  TcpStream c = rt.block_on(traced("client", "connect", TcpStream::connect(rt.handle(), addr)))
                    .value();
  trace("client", "connected");  // (5)
  for (const char* msg : {"ping", "hello", "bye"}) {
    std::string m = msg;
    (void)rt.block_on(c.write_all(m));
    trace("client", "sent '" + m + "'");  // (6), (13), (18)
    char buf[64];
    // Pending until the reactor has seen the echoed bytes arrive.
    IoResult<std::size_t> n = rt.block_on(traced("client", "read", c.read(buf, sizeof buf)));
    trace("client", "got '" + std::string(buf, n.value()) + "' back");  // (12), (17), (22)
  }
  (void)c.shutdown(Shutdown::kWrite);
  trace("client", "shut down its write side (FIN)");  // (23)
  char buf[8];
  // This read waits for the server's close.
  IoResult<std::size_t> eof = rt.block_on(traced("client", "read", c.read(buf, sizeof buf)));
  trace("client", "read " + std::to_string(eof.value()) + " bytes: the server closed");  // (26)
  c.close();
  trace("main", "sockets still registered with the reactor: " +
                    std::to_string(rt.reactor().registered_count() - 1) + " besides the listener");  // (27)
  return 0;
}
