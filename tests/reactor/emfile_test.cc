// tests/reactor/emfile_test.cc: running out of file descriptors. The test
// lowers the soft RLIMIT_NOFILE so that the server can accept only a few of
// the clients waiting in its backlog: accept must return kTooManyOpenFiles as
// a value, the server must keep serving the connections it has, and once
// descriptors are available again it must accept the rest.
#include <dirent.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "interop/coro/async_fn.h"
#include "poll/oneshot.h"
#include "reactor/runtime.h"
#include "reactor/tcp.h"
#include "tests/reactor/test_support.h"

namespace pollwake::reactor {
namespace {

using namespace std::chrono_literals;
using testing::Watchdog;

// Open descriptors: how many, and the highest number.
std::pair<int, int> open_fds() {
  int count = 0, highest = -1;
  DIR* d = ::opendir("/proc/self/fd");
  int own = ::dirfd(d);
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    int fd = std::atoi(e->d_name);
    if (fd == own) continue;
    ++count;
    highest = std::max(highest, fd);
  }
  ::closedir(d);
  return {count, highest};
}

int raw_connect(SocketAddr addr) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa = addr.to_sockaddr();
  // SAFETY: sockaddr_in is the AF_INET layout of sockaddr.
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) return -1;
  timeval tv{5, 0};  // a blocking client that cannot hang the test
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

bool raw_echo(int fd, const std::string& msg) {
  if (::send(fd, msg.data(), msg.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(msg.size())) {
    return false;
  }
  std::string got;
  char buf[64];
  while (got.size() < msg.size()) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return false;
    got.append(buf, n);
  }
  return got == msg;
}

struct ServerState {
  int accepted = 0;
  int emfile = 0;
  int other_errors = 0;
};

coro::Async<> server(LocalRuntime& rt, TcpListener& l, ServerState* st) {
  for (;;) {
    IoResult<TcpStream> s = co_await l.accept();
    if (s.is_err()) {
      if (s.error().kind() == ErrorKind::kTooManyOpenFiles) ++st->emfile;
      else ++st->other_errors;
      co_await sleep(rt.handle(), 2ms);  // back off; the connection waits in the backlog
      continue;
    }
    ++st->accepted;
    rt.spawn(testing::serve_echo(std::move(s).value()));
  }
}

// Helper: a thread started before the descriptor limit is lowered (creating
// threads, and the sanitizers' own bookkeeping, may need descriptors), which
// runs blocking client jobs on request while the runtime serves.
class Helper {
 public:
  Helper() : t_([this] { loop(); }) {}
  ~Helper() {
    {
      std::lock_guard lock(mu_);
      quit_ = true;
    }
    cv_.notify_one();
    t_.join();
  }
  // Runs `job` on the helper thread; the runtime serves until it finishes.
  bool run(LocalRuntime& rt, std::function<bool()> job) {
    auto [tx, rx] = oneshot::channel<bool>();
    {
      std::lock_guard lock(mu_);
      job_ = std::move(job);
      tx_.emplace(std::move(tx));
    }
    cv_.notify_one();
    auto r = rt.block_on(std::move(rx));
    return r.is_ok() && r.value();
  }

 private:
  void loop() {
    for (;;) {
      std::function<bool()> job;
      std::optional<oneshot::Sender<bool>> tx;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return quit_ || job_; });
        if (quit_) return;
        job = std::exchange(job_, nullptr);
        tx = std::exchange(tx_, std::nullopt);
      }
      (void)tx->send(job());
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  bool quit_ = false;
  std::function<bool()> job_;
  std::optional<oneshot::Sender<bool>> tx_;
  std::thread t_;
};

TEST(EmfileTest, AcceptReportsTooManyOpenFilesAndTheServerKeepsServing) {
  Watchdog dog("AcceptReportsTooManyOpenFilesAndTheServerKeepsServing");
  LocalRuntime rt;
  Helper helper;
  TcpListener l = TcpListener::bind(rt.handle(), SocketAddr::loopback(0)).value();
  SocketAddr addr = l.local_addr().value();
  const int clients = 8;
  std::vector<int> fds;
  for (int i = 0; i < clients; ++i) {
    fds.push_back(raw_connect(addr));  // queued in the backlog, not yet accepted
    ASSERT_GE(fds.back(), 0);
  }
  rlimit old{};
  getrlimit(RLIMIT_NOFILE, &old);
  auto [count, highest] = open_fds();
  // Leave exactly `room` descriptor numbers free below the limit.
  const int room = 3;
  rlim_t limit = std::max<rlim_t>(count + room, highest + 1);
  const int free_slots = static_cast<int>(limit) - count;
  ASSERT_LT(free_slots, clients);
  testing::set_nofile(limit);

  ServerState st;
  rt.spawn(server(rt, l, &st));
  while (st.emfile == 0) rt.block_on(sleep(rt.handle(), 1ms));
  EXPECT_EQ(st.accepted, free_slots);
  // A connect made now fails the same way, as a value.
  IoResult<TcpStream> c = rt.block_on(TcpStream::connect(rt.handle(), addr));
  ASSERT_TRUE(c.is_err());
  EXPECT_EQ(c.error().kind(), ErrorKind::kTooManyOpenFiles);

  // Out of descriptors, the server still serves what it accepted.
  std::vector<int> first(fds.begin(), fds.begin() + free_slots);
  EXPECT_TRUE(helper.run(rt, [first] {
    for (int fd : first) {
      if (!raw_echo(fd, "still served")) return false;
    }
    return true;
  }));

  // Descriptors again: the server accepts the rest and serves them.
  testing::set_nofile(old.rlim_cur);
  std::vector<int> rest(fds.begin() + free_slots, fds.end());
  EXPECT_TRUE(helper.run(rt, [rest] {
    for (int fd : rest) {
      if (!raw_echo(fd, "served after recovery")) return false;
    }
    return true;
  }));
  EXPECT_EQ(st.accepted, clients);
  EXPECT_EQ(st.other_errors, 0);
  for (int fd : fds) ::close(fd);
}

}  // namespace
}  // namespace pollwake::reactor
