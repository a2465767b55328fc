// reactor/tcp.h
//
// Models tokio's `tokio::net::TcpListener` and `TcpStream` (and std's
// `SocketAddrV4`): non-blocking sockets whose operations are futures that
// wait on the reactor instead of blocking the thread.
//
//   Rust (tokio)                               pollwake
//   TcpListener::bind(addr).await?             TcpListener::bind(handle, addr)  (sync)
//   listener.accept().await? -> (s, addr)      co_await listener.accept() -> IoResult<TcpStream>
//   TcpStream::connect(addr).await?            co_await TcpStream::connect(handle, addr)
//   stream.read(&mut buf).await?               co_await stream.read(buf, n) -> IoResult<size_t>
//   stream.write(&buf).await?                  co_await stream.write(buf, n)
//   stream.write_all(&buf).await?              co_await stream.write_all(buf, n)
//   stream.shutdown().await? (AsyncWriteExt)   stream.shutdown(Shutdown::kWrite)  (sync)
//   drop(stream)                               ~TcpStream / stream.close()
//   SocketAddr::from_str("127.0.0.1:80")       SocketAddr::parse("127.0.0.1:80")
//
// Every operation follows the same loop (tokio's `Registration::poll_io`):
//   1. poll_ready(direction): Pending (waker stored) until the reactor has
//      seen the descriptor ready;
//   2. try the syscall;
//   3. EAGAIN: the readiness was stale; clear it (if no newer event came,
//      see reactor.h's tick) and go back to 1. Anything else is the result.
// So "would block" never reaches the caller; every other failure comes back
// as an IoError value (refused, reset, broken pipe, EMFILE, reactor gone).
//
// What the caller may rely on:
//   * Futures are inert: connect() creates no socket until first polled.
//   * A future holds its own reference to the descriptor's state, not a
//     pointer to its stream or listener: moving the stream (into a task, a
//     container) while a read is pending is fine, and closing or dropping
//     it makes the pending operation complete with kNotConnected (never a
//     syscall on a reused fd number: deregistration marks the state closed
//     before the fd is closed). Only the buffer is borrowed: it must
//     outlive the future and stay where it is (Rust's borrow checker
//     enforces this; here it is the caller's rule). A future may even be
//     polled on one thread while its stream is closed on another (tasks of
//     a PoolRuntime sharing a stream): an operation already inside its
//     syscall finishes on the old socket, and the fd number is freed only
//     when the last future made from the stream is dropped, so a new socket
//     that gets the number never sees the old operation's syscall
//     (ScheduledIo::add_user, reactor.h). read(), write(), write_all()
//     and shutdown() only read the stream (as accept() reads its
//     listener), so tasks on several threads may call them on one shared
//     stream at once (what Rust allows through `&TcpStream`); close() and
//     the moves change it, and calling one of them while another thread
//     calls any method of the same stream is a data race, as for any
//     object. Making futures at once is fine; polling two reads at once is
//     not (below).
//   * Polling a future again after it returned Ready throws
//     FuturePolledAfterCompletion (poll/poll.h), as every pollwake future.
//   * One reader and one writer may wait on one stream at the same time
//     (two wakers); two tasks reading the same stream at once is a misuse
//     whose outcome is that one of them may not be woken (tokio documents
//     the same for its poll_read_ready).
//   * Writes use MSG_NOSIGNAL: writing to a closed peer is kBrokenPipe, not
//     SIGPIPE.
//   * A stream or listener is moved like a unique_ptr; the moved-from one
//     is closed (fd() == -1) and its operations return kNotConnected.
//
// How pollwake differs, and why: IPv4 only (the tests and examples use
// loopback); bind is synchronous (tokio's is async only because it resolves
// names); a short read or write clears readiness as tokio 1.24 does for
// streams, which saves the EAGAIN syscall that would otherwise follow.
#ifndef POLLWAKE_REACTOR_TCP_H_
#define POLLWAKE_REACTOR_TCP_H_

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "poll/arc.h"
#include "poll/context.h"
#include "poll/poll.h"
#include "reactor/io_error.h"
#include "reactor/reactor.h"

namespace pollwake::reactor {

// SocketAddr: an IPv4 address and port (std::net::SocketAddrV4).
class SocketAddr {
 public:
  SocketAddr() = default;
  SocketAddr(std::uint32_t ip_host_order, std::uint16_t port) : ip_(ip_host_order), port_(port) {}
  static SocketAddr loopback(std::uint16_t port) { return SocketAddr(0x7f000001u, port); }
  // "a.b.c.d:port"; nullopt if malformed.
  static std::optional<SocketAddr> parse(std::string_view text);
  static SocketAddr from_sockaddr(const sockaddr_in& sa);
  sockaddr_in to_sockaddr() const;
  std::uint16_t port() const noexcept { return port_; }
  std::string to_string() const;
  friend bool operator==(const SocketAddr&, const SocketAddr&) = default;

 private:
  std::uint32_t ip_ = 0;
  std::uint16_t port_ = 0;
};

enum class Shutdown { kRead, kWrite, kBoth };

class TcpStream;

namespace detail {

// True for accept4 errors that concern one queued connection, not the
// listener (see tcp.cc): the accept retries.
bool accept_error_is_transient(int err) noexcept;

// The readiness loop every stream operation runs (see the header comment).
// `io` is the operation's own reference to the descriptor's state, so it does
// not matter where the stream has moved since. `len` is what op asked for: a
// shorter non-empty result means the kernel's buffer is drained (read) or
// full (write), so readiness is cleared at once instead of after one more
// EAGAIN (tokio 1.24 does the same; the tick keeps it safe).
// Its result is one integer (an IoStep): kPendingStep, a byte count (>= 0),
// or a failure (negative: -errno, or kReactorGoneStep); step_ready turns a
// finished one into the Poll the futures return, step_error a failure into
// its IoError. Why not a Poll<IoResult> all the way: built in pieces (the
// value, the variant's index, the optional's flag) and then copied whole, it
// makes the CPU load as one word what it has just stored as several smaller
// ones, which it cannot forward from its store buffer (a store-forwarding
// stall, some 12 cycles). `perf annotate` of the echo server found them
// where a Poll was built in one function and copied out by the next (the
// loop's result, the future's, the coroutine awaiter's). So the loop
// returns an integer, step_ready builds the Poll once, in place
// (Ready(Ok(n)), not Ready(IoResult(Ok(n))), which is a second copy), and
// the futures' polls are inline (below) so the awaiter that polls them
// stores the fields straight into its own slot. (The awaiter's own copy out
// of that slot, when the coroutine resumes, still stalls: GCC copies the
// result whole; docs/09_reactor.md counts what is left.)
using IoStep = std::ptrdiff_t;
inline constexpr IoStep kPendingStep = PTRDIFF_MIN;
inline constexpr IoStep kReactorGoneStep = PTRDIFF_MIN + 1;
inline IoError step_error(IoStep step) {
  if (step == kReactorGoneStep) return IoError::reactor_gone();
  return IoError(static_cast<int>(-step));
}
// Precondition: step != kPendingStep (the futures return Pending first).
inline Poll<IoResult<std::size_t>> step_ready(IoStep step) {
  if (step >= 0) return Ready(Ok(static_cast<std::size_t>(step)));
  return Ready(Err(step_error(step)));
}
template <class Op>
IoStep poll_io(ScheduledIo* io, Context& cx, Direction dir, std::size_t len, Op&& op);

}  // namespace detail

// ReadFuture, WriteFuture, WriteAllFuture: returned by TcpStream's methods.
// Each is a user of the stream's ScheduledIo (an IoRef, reactor.h): tokio's
// futures borrow the stream instead; C++ cannot stop the stream from moving
// under a borrow, so pollwake's futures do not point at the stream at all,
// and the count of users does what the borrow does in Rust: the fd is not
// closed while one of them is alive.
class ReadFuture {
 public:
  using Output = IoResult<std::size_t>;
  ReadFuture(IoRef io, void* buf, std::size_t len)
      : io_(std::move(io)), buf_(buf), len_(len) {}
  // Throws FuturePolledAfterCompletion if polled again after Ready.
  Poll<Output> poll(Context& cx);

 private:
  IoRef io_;
  void* buf_;
  std::size_t len_;
  bool done_ = false;
};

class WriteFuture {
 public:
  using Output = IoResult<std::size_t>;
  WriteFuture(IoRef io, const void* buf, std::size_t len)
      : io_(std::move(io)), buf_(buf), len_(len) {}
  // Throws FuturePolledAfterCompletion if polled again after Ready.
  Poll<Output> poll(Context& cx);

 private:
  IoRef io_;
  const void* buf_;
  std::size_t len_;
  bool done_ = false;
};

class WriteAllFuture {
 public:
  using Output = IoResult<Unit>;
  WriteAllFuture(IoRef io, const void* buf, std::size_t len)
      : io_(std::move(io)), buf_(buf), len_(len) {}
  // Throws FuturePolledAfterCompletion if polled again after Ready.
  Poll<Output> poll(Context& cx);

 private:
  IoRef io_;
  const void* buf_;
  std::size_t len_;
  std::size_t written_ = 0;
  bool done_ = false;
};

class ConnectFuture {
 public:
  using Output = IoResult<TcpStream>;
  ConnectFuture(Handle h, SocketAddr addr) : handle_(std::move(h)), addr_(addr) {}
  ConnectFuture(ConnectFuture&&) noexcept;
  ConnectFuture& operator=(ConnectFuture&&) = delete;
  ~ConnectFuture();
  Poll<Output> poll(Context& cx);

 private:
  Handle handle_;
  SocketAddr addr_;
  int fd_ = -1;
  Registration reg_;
  bool started_ = false;
  bool done_ = false;
};

class TcpStream {
 public:
  TcpStream() = default;
  TcpStream(TcpStream&& other) noexcept
      : reg_(std::move(other.reg_)), fd_(std::exchange(other.fd_, -1)) {}
  TcpStream& operator=(TcpStream&& other) noexcept {
    if (this != &other) {
      close();
      reg_ = std::move(other.reg_);
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~TcpStream() { close(); }

  static ConnectFuture connect(const Handle& handle, SocketAddr addr) {
    return ConnectFuture(handle, addr);
  }
  // Adopts a connected socket (made non-blocking here) into the reactor.
  static IoResult<TcpStream> from_fd(const Handle& handle, int fd);

  ReadFuture read(void* buf, std::size_t len) { return ReadFuture(reg_.user(), buf, len); }
  WriteFuture write(const void* buf, std::size_t len) {
    return WriteFuture(reg_.user(), buf, len);
  }
  WriteAllFuture write_all(const void* buf, std::size_t len) {
    return WriteAllFuture(reg_.user(), buf, len);
  }
  WriteAllFuture write_all(std::string_view s) { return write_all(s.data(), s.size()); }

  // shutdown(2): kWrite sends FIN (the peer's read returns 0), the socket
  // stays open for reading.
  IoResult<Unit> shutdown(Shutdown how);
  IoResult<Unit> set_nodelay(bool on);
  IoResult<SocketAddr> local_addr() const;
  IoResult<SocketAddr> peer_addr() const;
  // Deregisters and closes now (the destructor does the same). Idempotent.
  void close() noexcept;
  int fd() const noexcept { return fd_; }

 private:
  friend class AcceptFuture;
  friend class ConnectFuture;
  TcpStream(Registration reg, int fd) : reg_(std::move(reg)), fd_(fd) {}

  Registration reg_;
  int fd_ = -1;
};

class AcceptFuture;

class TcpListener {
 public:
  TcpListener() = default;
  TcpListener(TcpListener&& other) noexcept
      : reg_(std::move(other.reg_)), fd_(std::exchange(other.fd_, -1)) {}
  TcpListener& operator=(TcpListener&& other) noexcept {
    if (this != &other) {
      close();
      reg_ = std::move(other.reg_);
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~TcpListener() { close(); }

  // socket + SO_REUSEADDR + bind + listen(backlog), registered with `handle`.
  // Port 0 picks a free port (see local_addr()).
  static IoResult<TcpListener> bind(const Handle& handle, SocketAddr addr, int backlog = 1024);

  // accept4 when ready. kTooManyOpenFiles comes back as a value and the
  // pending connection stays in the backlog, so a later accept can take it
  // once descriptors are free (the caller should back off, e.g. sleep).
  // Errors that belong to one queued connection (ECONNABORTED, EPROTO,
  // ENETDOWN and the rest of accept(2)'s "treat like EAGAIN" list, EINTR)
  // are retried inside: they never end the accept.
  AcceptFuture accept();

  IoResult<SocketAddr> local_addr() const;
  void close() noexcept;
  int fd() const noexcept { return fd_; }

 private:
  friend class AcceptFuture;
  Registration reg_;
  int fd_ = -1;
};

class AcceptFuture {
 public:
  using Output = IoResult<TcpStream>;
  // As the stream futures: its own references, not a pointer to the
  // listener (the Handle registers the accepted sockets).
  AcceptFuture(IoRef io, Handle handle)
      : io_(std::move(io)), handle_(std::move(handle)) {}
  // Throws FuturePolledAfterCompletion if polled again after Ready.
  Poll<Output> poll(Context& cx);

 private:
  Poll<Output> poll_accept(Context& cx);

  IoRef io_;
  Handle handle_;
  bool done_ = false;
};

inline AcceptFuture TcpListener::accept() { return AcceptFuture(reg_.user(), reg_.handle()); }

// [START poll_io]
template <class Op>
detail::IoStep detail::poll_io(ScheduledIo* io, Context& cx, Direction dir, std::size_t len,
                               Op&& op) {
  if (io == nullptr) return -ENOTCONN;  // moved-from or closed stream
  for (;;) {
    Poll<ReadyEvent> ready = io->poll_ready(cx, dir);
    if (ready.is_pending()) return kPendingStep;  // the reactor will wake cx's waker
    ReadyEvent ev = ready.value();
    if (ev.ready & kClosed) return -ENOTCONN;  // closed meanwhile
    if (ev.ready & kShutdown) return kReactorGoneStep;
    // The fd is open (its number not reused) even if the stream was closed
    // on another thread since the check above: the future holding `io` is
    // one of its users (ScheduledIo::add_user).
    ssize_t n = op(io->fd());
    if (n > 0) {
      if (static_cast<std::size_t>(n) < len) io->clear_readiness(ev, dir, false);
      return n;
    }
    const int err = n < 0 ? errno : 0;
    // Closed on another thread during the syscall: its shutdown(2) may be
    // what made the syscall fail or read EOF; report the close.
    if (io->closed()) return -ENOTCONN;
    if (n == 0) return 0;
    if (err == EAGAIN || err == EWOULDBLOCK) {
      io->clear_readiness(ev, dir);  // stale: wait for the next edge
      continue;
    }
    if (err == EINTR) continue;
    return -err;
  }
}
// [END poll_io]

// The stream futures' polls are here, not in tcp.cc, so that they inline
// into whoever polls them (a coroutine's awaiter, a hand-written state
// machine) and their result need not go through memory: see step_ready.
inline Poll<IoResult<std::size_t>> ReadFuture::poll(Context& cx) {
  if (done_) polled_after_completion("ReadFuture");
  detail::IoStep step = detail::poll_io(io_.get(), cx, Direction::kRead, len_,
                                        [&](int fd) { return ::recv(fd, buf_, len_, 0); });
  if (step == detail::kPendingStep) return Pending;
  done_ = true;
  return detail::step_ready(step);
}

inline Poll<IoResult<std::size_t>> WriteFuture::poll(Context& cx) {
  if (done_) polled_after_completion("WriteFuture");
  detail::IoStep step =
      detail::poll_io(io_.get(), cx, Direction::kWrite, len_,
                      [&](int fd) { return ::send(fd, buf_, len_, MSG_NOSIGNAL); });
  if (step == detail::kPendingStep) return Pending;
  done_ = true;
  return detail::step_ready(step);
}

inline Poll<IoResult<Unit>> WriteAllFuture::poll(Context& cx) {
  if (done_) polled_after_completion("WriteAllFuture");
  const char* base = static_cast<const char*>(buf_);
  while (written_ < len_) {
    std::size_t left = len_ - written_;
    detail::IoStep step =
        detail::poll_io(io_.get(), cx, Direction::kWrite, left,
                        [&](int fd) { return ::send(fd, base + written_, left, MSG_NOSIGNAL); });
    if (step == detail::kPendingStep) return Pending;
    if (step < 0) {
      done_ = true;
      return Ready(Err(detail::step_error(step)));
    }
    written_ += static_cast<std::size_t>(step);
  }
  done_ = true;
  return Ready(Ok(Unit{}));
}

}  // namespace pollwake::reactor

#endif  // POLLWAKE_REACTOR_TCP_H_
