// reactor/tcp.cc: TcpListener, TcpStream and their futures. See tcp.h.
#include "reactor/tcp.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>

namespace pollwake::reactor {

// ----------------------------------------------------------------- SocketAddr

std::optional<SocketAddr> SocketAddr::parse(std::string_view text) {
  std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string host(text.substr(0, colon));
  std::string_view port_text = text.substr(colon + 1);
  in_addr a{};
  if (::inet_pton(AF_INET, host.c_str(), &a) != 1) return std::nullopt;
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return std::nullopt;
  }
  return SocketAddr(ntohl(a.s_addr), static_cast<std::uint16_t>(port));
}

SocketAddr SocketAddr::from_sockaddr(const sockaddr_in& sa) {
  return SocketAddr(ntohl(sa.sin_addr.s_addr), ntohs(sa.sin_port));
}

sockaddr_in SocketAddr::to_sockaddr() const {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(ip_);
  sa.sin_port = htons(port_);
  return sa;
}

std::string SocketAddr::to_string() const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u:%u", ip_ >> 24, (ip_ >> 16) & 255, (ip_ >> 8) & 255,
                ip_ & 255, port_);
  return buf;
}

namespace {

IoResult<SocketAddr> name_of(int fd, bool peer) {
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  // SAFETY: sockaddr_in is the sockaddr layout for AF_INET, the only family
  // pollwake's sockets use; the kernel writes at most `len` bytes.
  auto* p = reinterpret_cast<sockaddr*>(&sa);
  int r = peer ? ::getpeername(fd, p, &len) : ::getsockname(fd, p, &len);
  if (r != 0) return Err(IoError::last_os_error());
  return Ok(SocketAddr::from_sockaddr(sa));
}

}  // namespace

// accept(2), Linux notes: the new connection's pending network errors come
// back from accept itself, and "for reliable operation the application should
// detect the network errors defined for the protocol after accept() and treat
// them like EAGAIN by retrying" (for TCP/IP: ENETDOWN, EPROTO, ENOPROTOOPT,
// EHOSTDOWN, ENONET, EHOSTUNREACH, EOPNOTSUPP, ENETUNREACH). ECONNABORTED is
// a client that reset while queued; EINTR a signal. Each consumed (or never
// reached) one queued connection, so retrying at once cannot spin forever:
// the backlog empties and accept4 says EAGAIN. mio and tokio do not retry
// these (they return them and leave it to the accept loop); pollwake does, so
// a loop that stops at the first error never ends a healthy listener.
namespace detail {

bool accept_error_is_transient(int err) noexcept {
  switch (err) {
    case EINTR:
    case ECONNABORTED:
    case EPROTO:
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
#ifdef ENONET
    case ENONET:
#endif
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
      return true;
    default:
      return false;
  }
}

}  // namespace detail

// ------------------------------------------------------------------ TcpStream

IoResult<TcpStream> TcpStream::from_fd(const Handle& handle, int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    IoError e = IoError::last_os_error();
    ::close(fd);
    return Err(e);
  }
  IoResult<Registration> reg = Registration::add(handle, fd);
  if (reg.is_err()) {
    ::close(fd);
    return Err(std::move(reg).error());
  }
  return Ok(TcpStream(std::move(reg).value(), fd));
}

void TcpStream::close() noexcept {
  if (fd_ < 0) return;
  // The fd number must leave epoll before it can be reused, and must not be
  // freed while an operation future made from this stream may still make a
  // syscall on it: the last of them closes it (ScheduledIo::release_owner).
  if (reg_.registered()) {
    reg_.deregister_and_close();
  } else {
    ::close(fd_);
  }
  fd_ = -1;
}

IoResult<Unit> TcpStream::shutdown(Shutdown how) {
  if (fd_ < 0) return Err(IoError(ENOTCONN));
  int h = how == Shutdown::kRead ? SHUT_RD : how == Shutdown::kWrite ? SHUT_WR : SHUT_RDWR;
  if (::shutdown(fd_, h) != 0) return Err(IoError::last_os_error());
  return Ok(Unit{});
}

IoResult<Unit> TcpStream::set_nodelay(bool on) {
  int v = on ? 1 : 0;
  if (::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v) != 0) {
    return Err(IoError::last_os_error());
  }
  return Ok(Unit{});
}

IoResult<SocketAddr> TcpStream::local_addr() const { return name_of(fd_, false); }
IoResult<SocketAddr> TcpStream::peer_addr() const { return name_of(fd_, true); }

// -------------------------------------------------------------- ConnectFuture

ConnectFuture::ConnectFuture(ConnectFuture&& o) noexcept
    : handle_(std::move(o.handle_)),
      addr_(o.addr_),
      fd_(std::exchange(o.fd_, -1)),
      reg_(std::move(o.reg_)),
      started_(o.started_),
      done_(o.done_) {}

ConnectFuture::~ConnectFuture() {
  reg_.deregister();
  if (fd_ >= 0) ::close(fd_);  // dropped before it connected: cancelled
}

// [START connect]
Poll<IoResult<TcpStream>> ConnectFuture::poll(Context& cx) {
  using R = IoResult<TcpStream>;
  if (done_) polled_after_completion("ConnectFuture");
  if (!started_) {  // first poll: only now does the socket exist
    started_ = true;
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
      done_ = true;
      return Ready(R(Err(IoError::last_os_error())));  // e.g. EMFILE
    }
    sockaddr_in sa = addr_.to_sockaddr();
    // SAFETY: sockaddr_in is the AF_INET layout of sockaddr.
    // EINTR: POSIX says an interrupted connect() "shall be established
    // asynchronously", exactly as EINPROGRESS (calling connect again would
    // only say EALREADY): wait for writability, then read SO_ERROR.
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0 &&
        errno != EINPROGRESS && errno != EINTR) {
      done_ = true;
      return Ready(R(Err(IoError::last_os_error())));  // e.g. ECONNREFUSED at once
    }
    // Registered only now, as mio does: epoll reports a socket that has not
    // started connecting as hung up (EPOLLHUP), and a reactor on another
    // thread could record that as final before connect() ran.
    IoResult<Registration> reg = Registration::add(handle_, fd_);
    if (reg.is_err()) {
      done_ = true;
      return Ready(R(Err(std::move(reg).error())));
    }
    reg_ = std::move(reg).value();
  }
  // Connected (or failed) when the socket becomes writable.
  Poll<ReadyEvent> ready = reg_.poll_ready(cx, Direction::kWrite);
  if (ready.is_pending()) return Pending;
  done_ = true;
  if (ready.value().ready & kShutdown) return Ready(R(Err(IoError::reactor_gone())));
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err != 0) return Ready(R(Err(IoError(err))));  // e.g. ECONNREFUSED
  return Ready(R(Ok(TcpStream(std::move(reg_), std::exchange(fd_, -1)))));
}
// [END connect]

// ---------------------------------------------------------------- TcpListener

IoResult<TcpListener> TcpListener::bind(const Handle& handle, SocketAddr addr, int backlog) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Err(IoError::last_os_error());
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa = addr.to_sockaddr();
  // SAFETY: sockaddr_in is the AF_INET layout of sockaddr.
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0 ||
      ::listen(fd, backlog) != 0) {
    IoError e = IoError::last_os_error();
    ::close(fd);
    return Err(e);
  }
  IoResult<Registration> reg = Registration::add(handle, fd);
  if (reg.is_err()) {
    ::close(fd);
    return Err(std::move(reg).error());
  }
  TcpListener l;
  l.reg_ = std::move(reg).value();
  l.fd_ = fd;
  return Ok(std::move(l));
}

IoResult<SocketAddr> TcpListener::local_addr() const { return name_of(fd_, false); }

void TcpListener::close() noexcept {
  if (fd_ < 0) return;
  if (reg_.registered()) {  // as TcpStream::close
    reg_.deregister_and_close();
  } else {
    ::close(fd_);
  }
  fd_ = -1;
}

Poll<IoResult<TcpStream>> AcceptFuture::poll(Context& cx) {
  if (done_) polled_after_completion("AcceptFuture");
  Poll<IoResult<TcpStream>> p = poll_accept(cx);
  done_ = p.is_ready();
  return p;
}

// [START accept]
Poll<IoResult<TcpStream>> AcceptFuture::poll_accept(Context& cx) {
  using R = IoResult<TcpStream>;
  if (!io_) return Ready(R(Err(IoError(ENOTCONN))));  // moved-from or closed listener
  for (;;) {
    Poll<ReadyEvent> ready = io_->poll_ready(cx, Direction::kRead);
    if (ready.is_pending()) return Pending;
    ReadyEvent ev = ready.value();
    if (ev.ready & kClosed) return Ready(R(Err(IoError(ENOTCONN))));
    if (ev.ready & kShutdown) return Ready(R(Err(IoError::reactor_gone())));
    // The listener's fd stays open while this future lives (see poll_io).
    int fd = ::accept4(io_->fd(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    const int err = fd >= 0 ? 0 : errno;
    // Closed on another thread during accept4: its shutdown(2) makes
    // accept4 fail with EINVAL; report the close (poll_io does the same).
    if (fd < 0 && io_->closed()) return Ready(R(Err(IoError(ENOTCONN))));
    if (fd >= 0) {
      IoResult<Registration> reg = Registration::add(handle_, fd);
      if (reg.is_err()) {
        ::close(fd);
        return Ready(R(Err(std::move(reg).error())));
      }
      return Ready(R(Ok(TcpStream(std::move(reg).value(), fd))));
    }
    if (err == EAGAIN || err == EWOULDBLOCK) {
      io_->clear_readiness(ev, Direction::kRead);
      continue;
    }
    // One queued connection failed, not the listener: take the next one.
    if (detail::accept_error_is_transient(err)) continue;
    // EMFILE/ENFILE and the rest: a value. Readiness stays set, so the next
    // accept retries without waiting for a new connection.
    return Ready(R(Err(IoError(err))));
  }
}
// [END accept]

}  // namespace pollwake::reactor
