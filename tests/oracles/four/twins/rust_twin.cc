// tests/oracles/four/twins/rust_twin.cc: the C++ twin of rust/src/bin/four.rs,
// on pollwake's lazy model: coro::Async for `async fn`, oneshot channels,
// join, LocalPool, block_on. It prints the same trace as the Rust program
// (compared with rust/four.expected, no normalization).
//
// futures-rs's try_join3 has no pollwake counterpart yet; TryJoin3 below is
// the few lines it takes, with futures-rs's order: poll each unfinished part
// in argument order, return the first Err at once (dropping the others when
// the join is dropped), Ok of all outputs once each part is Ready.
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <tuple>
#include <utility>

#include "executor/block_on.h"
#include "executor/local_pool.h"
#include "interop/coro/async_fn.h"
#include "poll/context.h"
#include "poll/join.h"
#include "poll/oneshot.h"
#include "poll/ready.h"
#include "poll/result.h"
#include "poll/waker.h"

namespace {

using pollwake::Context;
using pollwake::LocalPool;
using pollwake::Poll;
using pollwake::Result;
using pollwake::Unit;
using pollwake::Waker;
using pollwake::coro::Async;
namespace oneshot = pollwake::oneshot;

void P(const std::string& s) { std::printf("%s\n", s.c_str()); }

// Unfinished: prints "<name>: dropped unfinished" if destroyed while armed
// (the twin of the Rust program's Drop guard).
struct Unfinished {
  std::string name;
  bool armed = true;
  ~Unfinished() {
    if (armed) P(name + ": dropped unfinished");
  }
};

// 1. Order of effects around a call that is not awaited at once.
Async<int> F() {
  P("f: start");
  co_await pollwake::ready(Unit{});
  P("f: after await");
  co_return 1;
}

void One() {
  P("== 1 unawaited call");
  pollwake::block_on([]() -> Async<> {
    P("main: call f");
    Async<int> t = F();
    P("main: f returned");
    P("main: await");
    int v = co_await t;
    P("main: got " + std::to_string(v));
  }());
}

// 2. Fan out three waits and join them; the events fire in the order B, C, A.
Async<std::string> Op(std::string name, oneshot::Receiver<Unit> ev) {
  P(name + ": start");
  (void)(co_await ev).value();
  P(name + ": done");
  co_return name;
}

void Two() {
  P("== 2 fan out and join");
  LocalPool pool;
  auto [ta, ra] = oneshot::channel<Unit>();
  auto [tb, rb] = oneshot::channel<Unit>();
  auto [tc, rc] = oneshot::channel<Unit>();
  P("main: start ops");
  pool.spawner().spawn_local([](oneshot::Receiver<Unit> ra, oneshot::Receiver<Unit> rb,
                                oneshot::Receiver<Unit> rc) -> Async<> {
    auto [a, b, c] = co_await pollwake::join(Op("A", std::move(ra)), Op("B", std::move(rb)), Op("C", std::move(rc)));
    P("main: joined " + a + " " + b + " " + c);
  }(std::move(ra), std::move(rb), std::move(rc)));
  P("main: run the loop");
  pool.run_until_stalled();
  P("main: fire B");
  (void)tb.send(Unit{});
  P("main: fire C");
  (void)tc.send(Unit{});
  P("main: fire A");
  (void)ta.send(Unit{});
  P("main: run the loop");
  pool.run_until_stalled();
}

// 3. Cancel a pending operation: drop the future.
Async<int> Cancellable(oneshot::Receiver<Unit> ev) {
  Unfinished guard{"op"};
  P("op: start");
  (void)co_await ev;
  P("op: after await");
  guard.armed = false;
  co_return 1;
}

void Three() {
  P("== 3 cancel");
  auto [tx, rx] = oneshot::channel<Unit>();
  P("main: start op");
  std::optional<Async<int>> fut(Cancellable(std::move(rx)));
  Context cx = Context::from_waker(Waker::noop());
  if (fut->poll(cx).is_pending()) P("main: op pending");
  P("main: cancel (drop the future)");
  fut.reset();
  P("main: cancel returned");
  P(std::string("main: sender sees cancellation: ") + (tx.is_canceled() ? "true" : "false"));
}

// 4. One of three concurrent operations fails (an Err, joined by TryJoin3).
using OpResult = Result<std::string, std::string>;

template <class A, class B, class C>
class TryJoin3 {
 public:
  using Output = Result<std::tuple<std::string, std::string, std::string>, std::string>;
  TryJoin3(A a, B b, C c) : a_(std::move(a)), b_(std::move(b)), c_(std::move(c)) {}
  TryJoin3(TryJoin3&&) = default;
  // Rust drops a struct's fields in declaration order; C++ destroys members
  // in reverse. The parts are dropped A, B, C, as futures-rs's TryJoin3 does.
  ~TryJoin3() {
    a_.reset();
    b_.reset();
    c_.reset();
  }

  Poll<Output> poll(Context& cx) {
    std::optional<std::string> err;
    auto step = [&](auto& fut, std::optional<std::string>& out) {
      if (err || out || !fut) return;
      Poll<OpResult> p = fut->poll(cx);
      if (p.is_pending()) return;
      OpResult r = std::move(p).value();
      fut.reset();
      if (r.is_err()) {
        err = r.error();
      } else {
        out = r.value();
      }
    };
    step(a_, ra_);
    step(b_, rb_);
    step(c_, rc_);
    if (err) return pollwake::Ready(Output(pollwake::Err(*err)));
    if (ra_ && rb_ && rc_) return pollwake::Ready(Output(pollwake::Ok(std::make_tuple(*ra_, *rb_, *rc_))));
    return pollwake::Pending;
  }

 private:
  std::optional<A> a_;
  std::optional<B> b_;
  std::optional<C> c_;
  std::optional<std::string> ra_, rb_, rc_;
};

Async<OpResult> MayFail(std::string name, oneshot::Receiver<Unit> ev, bool fail) {
  Unfinished guard{name};
  P(name + ": start");
  (void)(co_await ev).value();
  guard.armed = false;
  if (fail) {
    P(name + ": fails");
    co_return pollwake::Err(name + " failed");
  }
  P(name + ": done");
  co_return pollwake::Ok(name);
}

void Four() {
  P("== 4 one of three fails");
  LocalPool pool;
  auto [ta, ra] = oneshot::channel<Unit>();
  auto [tb, rb] = oneshot::channel<Unit>();
  auto [tc, rc] = oneshot::channel<Unit>();
  P("main: start ops");
  pool.spawner().spawn_local([](oneshot::Receiver<Unit> ra, oneshot::Receiver<Unit> rb,
                                oneshot::Receiver<Unit> rc) -> Async<> {
    using J = TryJoin3<Async<OpResult>, Async<OpResult>, Async<OpResult>>;
    auto r = co_await J(MayFail("A", std::move(ra), false), MayFail("B", std::move(rb), true),
                        MayFail("C", std::move(rc), false));
    if (r.is_ok()) {
      P("main: all succeeded");
    } else {
      P("main: error: " + r.error());
    }
  }(std::move(ra), std::move(rb), std::move(rc)));
  P("main: run the loop");
  pool.run_until_stalled();
  P("main: fire B");
  (void)tb.send(Unit{});
  P("main: run the loop");
  pool.run_until_stalled();
  for (auto* pair : {&ta, &tc}) {
    const std::string name = pair == &ta ? "A" : "C";
    if (pair->send(Unit{}).is_ok()) {
      P("main: fire " + name);
    } else {
      P("main: fire " + name + ": nobody is waiting");
    }
  }
}

// 5. CPU-bound work inside an async function: who is blocked.
std::uint64_t Spin() {
  std::uint64_t x = 1;
  for (std::uint64_t i = 0; i < 2000000; ++i) x = x * 6364136223846793005ULL + i;
  return x;
}

Async<> Busy() {
  P("busy: start");
  if (Spin() == 0) P("busy: (unlikely)");
  P("busy: end");
  co_return;
}

Async<> Tick() {
  P("tick: runs");
  co_return;
}

void Five() {
  P("== 5 CPU-bound work");
  LocalPool pool;
  P("main: spawn busy, then tick");
  pool.spawner().spawn_local(Busy());
  pool.spawner().spawn_local(Tick());
  P("main: run the loop");
  pool.run();
  P("main: loop finished");
}

}  // namespace

int main() {
  One();
  Two();
  Three();
  Four();
  Five();
  return 0;
}
