// tests/reactor/test_support.h: what the reactor tests share.
//
//   Watchdog        aborts the test binary with a message if the test is not
//                   done by a deadline: a lost wakeup fails (the reactor would
//                   otherwise sleep in epoll_wait forever) instead of hanging.
//   serve_echo      an echo connection handler (a coroutine task).
//   echo_once       a client: connect, write, read back, close.
//   set_nofile      sets the soft RLIMIT_NOFILE, returning the old one.
//   open_fd_count   descriptors open in this process (fd leak checks: ASan
//                   does not see leaked descriptors).
//   SocketPair      a non-blocking AF_UNIX stream pair; closes what it still
//                   owns (set a or b to -1 when something else takes it).
//   fd_is_open      whether a descriptor number is open (fcntl F_GETFD).
#ifndef POLLWAKE_TESTS_REACTOR_TEST_SUPPORT_H_
#define POLLWAKE_TESTS_REACTOR_TEST_SUPPORT_H_

#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <sys/resource.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

#include "interop/coro/async_fn.h"
#include "reactor/tcp.h"

namespace pollwake::reactor::testing {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
inline constexpr int kSanitizerSlowdown = 4;
#else
inline constexpr int kSanitizerSlowdown = 1;
#endif

class Watchdog {
 public:
  explicit Watchdog(const char* what, std::chrono::seconds limit = std::chrono::seconds(30))
      : thread_([this, what, limit] {
          std::unique_lock lock(mu_);
          if (!cv_.wait_for(lock, limit * kSanitizerSlowdown, [&] { return done_; })) {
            std::fprintf(stderr, "WATCHDOG: '%s' did not finish in time (a lost wakeup?)\n", what);
            std::abort();
          }
        }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

// Echoes until EOF or an error; counts the connection's end in *closed.
inline coro::Async<> serve_echo(TcpStream s, int* closed = nullptr) {
  char buf[4096];
  for (;;) {
    IoResult<std::size_t> r = co_await s.read(buf, sizeof buf);
    if (r.is_err() || r.value() == 0) break;
    IoResult<Unit> w = co_await s.write_all(buf, r.value());
    if (w.is_err()) break;
  }
  if (closed) ++*closed;
}

// Connects, sends `msg`, reads exactly msg.size() bytes back; the echoed text
// or "error: ..." .
inline coro::Async<std::string> echo_once(Handle h, SocketAddr addr, std::string msg) {
  IoResult<TcpStream> c = co_await TcpStream::connect(h, addr);
  if (c.is_err()) co_return "error: connect: " + c.error().message();
  TcpStream s = std::move(c).value();
  IoResult<Unit> w = co_await s.write_all(msg);
  if (w.is_err()) co_return "error: write: " + w.error().message();
  std::string got;
  char buf[256];
  while (got.size() < msg.size()) {
    IoResult<std::size_t> r = co_await s.read(buf, sizeof buf);
    if (r.is_err()) co_return "error: read: " + r.error().message();
    if (r.value() == 0) co_return "error: early EOF";
    got.append(buf, r.value());
  }
  co_return got;
}

inline rlim_t set_nofile(rlim_t soft) {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rlim_t old = rl.rlim_cur;
  rl.rlim_cur = soft < rl.rlim_max ? soft : rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  return old;
}

inline int open_fd_count() {
  int n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n - 1;  // the directory's own descriptor
}

struct SocketPair {
  int a = -1, b = -1;
  SocketPair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0) {
      a = fds[0];
      b = fds[1];
    }
  }
  SocketPair(const SocketPair&) = delete;
  SocketPair& operator=(const SocketPair&) = delete;
  ~SocketPair() {
    if (a >= 0) ::close(a);
    if (b >= 0) ::close(b);
  }
};

inline bool fd_is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

}  // namespace pollwake::reactor::testing

#endif  // POLLWAKE_TESTS_REACTOR_TEST_SUPPORT_H_
