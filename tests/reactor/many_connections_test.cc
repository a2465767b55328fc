// tests/reactor/many_connections_test.cc: 1,000 connections open at the same
// time on the one-thread runtime (and 300 on the pool), each echoing, all
// held open until every one has connected.
#include <sys/resource.h>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "interop/coro/async_fn.h"
#include "poll/oneshot.h"
#include "reactor/runtime.h"
#include "reactor/tcp.h"
#include "tests/reactor/test_support.h"

namespace pollwake::reactor {
namespace {

using testing::Watchdog;

// Latch: a future that is Ready once count_down() was called `n` times
// (thread-safe; wakes every waiter).
class Latch {
 public:
  explicit Latch(int n) : left_(n) {}
  void count_down() {
    std::vector<Waker> wake;
    {
      std::lock_guard lock(mu_);
      if (--left_ == 0) wake.swap(waiters_);
    }
    for (auto& w : wake) std::move(w).wake();
  }
  struct Wait {
    using Output = Unit;
    Latch* l;
    Poll<Unit> poll(Context& cx) {
      std::lock_guard lock(l->mu_);
      if (l->left_ <= 0) return Ready();
      l->waiters_.push_back(cx.waker());
      return Pending;
    }
  };
  Wait wait() { return Wait{this}; }

 private:
  std::mutex mu_;
  int left_;
  std::vector<Waker> waiters_;
};

struct Stats {
  std::atomic<int> active{0};
  std::atomic<int> max_active{0};
  void open() {
    int now = active.fetch_add(1) + 1;
    int m = max_active.load();
    while (now > m && !max_active.compare_exchange_weak(m, now)) {
    }
  }
};

coro::Async<> serve(TcpStream s, Stats* st) {
  st->open();
  co_await testing::serve_echo(std::move(s));
  st->active.fetch_sub(1);
}

template <class Rt>
coro::Async<> accept_all(Rt& rt, TcpListener& l, int n, Stats* st) {
  for (int i = 0; i < n; ++i) {
    IoResult<TcpStream> s = co_await l.accept();
    if (s.is_err()) {
      ADD_FAILURE() << "accept: " << s.error().message();
      co_return;
    }
    rt.spawn(serve(std::move(s).value(), st));
  }
}

coro::Async<> client(Handle h, SocketAddr addr, int i, Latch* connected, Latch* all_done,
                     std::atomic<int>* ok) {
  IoResult<TcpStream> c = co_await TcpStream::connect(h, addr);
  if (c.is_err()) {
    connected->count_down();
    all_done->count_down();
    co_return;
  }
  TcpStream s = std::move(c).value();
  std::string msg = "client " + std::to_string(i);
  bool good = (co_await s.write_all(msg)).is_ok();
  std::string got;
  char buf[64];
  while (good && got.size() < msg.size()) {
    IoResult<std::size_t> r = co_await s.read(buf, sizeof buf);
    if (r.is_err() || r.value() == 0) good = false;
    else got.append(buf, r.value());
  }
  connected->count_down();
  co_await connected->wait();  // every connection stays open until all are up
  if (good && got == msg) ok->fetch_add(1);
  all_done->count_down();
}

void raise_nofile(rlim_t need) {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < need) testing::set_nofile(need);
  getrlimit(RLIMIT_NOFILE, &rl);
  ASSERT_GE(rl.rlim_cur, need) << "the hard RLIMIT_NOFILE is too low for this test";
}

TEST(ManyConnectionsTest, AThousandConcurrentEchoesOnOneThread) {
  const int n = 1000;
  raise_nofile(2 * n + 100);
  Watchdog dog("AThousandConcurrentEchoesOnOneThread", std::chrono::seconds(60));
  LocalRuntime rt;
  TcpListener l = TcpListener::bind(rt.handle(), SocketAddr::loopback(0), 4096).value();
  SocketAddr addr = l.local_addr().value();
  Stats st;
  Latch connected(n), all_done(n);
  std::atomic<int> ok{0};
  rt.spawn(accept_all(rt, l, n, &st));
  for (int i = 0; i < n; ++i) rt.spawn(client(rt.handle(), addr, i, &connected, &all_done, &ok));
  rt.block_on(all_done.wait());
  EXPECT_EQ(ok.load(), n);
  EXPECT_EQ(st.max_active.load(), n);
}

TEST(ManyConnectionsTest, ThreeHundredConcurrentEchoesOnThePool) {
  const int n = 300;
  raise_nofile(2 * n + 100);
  Watchdog dog("ThreeHundredConcurrentEchoesOnThePool", std::chrono::seconds(60));
  Stats st;
  Latch connected(n), all_done(n);
  std::atomic<int> ok{0};
  {
    PoolRuntime rt(2);
    TcpListener l = TcpListener::bind(rt.handle(), SocketAddr::loopback(0), 4096).value();
    SocketAddr addr = l.local_addr().value();
    rt.spawn(accept_all(rt, l, n, &st));
    for (int i = 0; i < n; ++i) rt.spawn(client(rt.handle(), addr, i, &connected, &all_done, &ok));
    rt.block_on(all_done.wait());
  }
  EXPECT_EQ(ok.load(), n);
  EXPECT_EQ(st.max_active.load(), n);
}

}  // namespace
}  // namespace pollwake::reactor
