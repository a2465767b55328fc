// tests/oracles/four/twins/js_twin.cc: the C++ twin of js/four.js, on the
// JavaScript model in interop/js/ (EventLoop, Promise, Async, All,
// AllSettled, AbortController). It prints the same trace as node (compared
// with js/four.expected, no normalization).
//
// The model's timers run on virtual time: part 5's 0 ms timer waits for the
// busy job because a macrotask never interrupts a job, not because of how
// long the job took, in node as here.
//
// C++ has no `finally`; Finally below prints from its destructor, which runs
// as the body's scope ends, before the promise's reactions can run (they are
// microtasks), as JavaScript's finally block does.
#include <cstdint>
#include <cstdio>
#include <exception>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "interop/js/abort.h"
#include "interop/js/event_loop.h"
#include "interop/js/promise.h"

namespace {

using pollwake::Unit;
using namespace pollwake::js;  // NOLINT: the twin reads like the JavaScript program

void P(const std::string& s) { std::printf("%s\n", s.c_str()); }

struct Finally {
  std::string text;
  ~Finally() { P(text); }
};

// 1. Order of effects around a call that is not awaited at once.
Async<int> F() {
  P("f: start");
  co_await nullptr;
  P("f: after await");
  co_return 1;
}

Async<> One() {
  P("== 1 unawaited call");
  P("main: call f");
  Promise<int> t = F();
  P("main: f returned");
  P("main: await");
  int v = co_await t;
  P("main: got " + std::to_string(v));
}

// 2. Fan out three waits and join them; the events fire in the order B, C, A.
Async<std::string> Op(std::string name, Promise<> ev) {
  P(name + ": start");
  co_await ev;
  P(name + ": done");
  co_return name;
}

Async<> Two() {
  P("== 2 fan out and join");
  std::map<std::string, ResolveFn<Unit>> fire;
  auto ev = [&fire](const std::string& n) {
    auto r = Promise<>::WithResolvers();
    fire.emplace(n, r.resolve);
    return r.promise;
  };
  P("main: start ops");
  Promise<std::vector<std::string>> all = All<std::string>({Op("A", ev("A")), Op("B", ev("B")), Op("C", ev("C"))});
  P("main: fire B");
  fire.at("B")();
  P("main: fire C");
  fire.at("C")();
  P("main: fire A");
  fire.at("A")();
  std::vector<std::string> r = co_await all;
  P("main: joined " + r[0] + " " + r[1] + " " + r[2]);
}

// 3. Cancel a pending operation with an AbortController.
Async<int> Cancellable(AbortSignal signal) {
  P("op: start");
  int result = 0;
  {
    Finally cleanup{"op: finally (cleanup)"};
    try {
      // A named promise, not a temporary inside the co_await expression:
      // with the executor lambda as a temporary there, g++ 12 builds under
      // ASan reported a use-after-free of the signal the lambda captured
      // (a temporary's lifetime across a suspension point).
      Promise<> aborted([signal](ResolveFn<Unit>, RejectFn<Unit> reject) {
        signal.AddEventListener(
            [signal, reject] {
              P("op: abort listener");
              reject(signal.Reason());
            },
            /*once=*/true);
      });
      co_await aborted;
      P("op: after await");
      result = 1;
    } catch (const DOMException& e) {
      P("op: caught " + e.Name());
      result = -1;
    }
  }
  co_return result;
}

Async<> Three() {
  P("== 3 cancel");
  AbortController ac;
  P("main: start op");
  Promise<int> t = Cancellable(ac.Signal());
  P("main: abort");
  ac.Abort();
  P("main: abort returned");
  int v = co_await t;
  P("main: got " + std::to_string(v));
}

// 4. One of three concurrent operations rejects; B's event fires first,
// A's and C's later, from a timer, while main awaits the join.
Async<std::string> MayFail(std::string name, Promise<> ev, bool fail) {
  P(name + ": start");
  co_await ev;
  if (fail) {
    P(name + ": throws");
    throw std::runtime_error(name + " failed");
  }
  P(name + ": done");
  co_return name;
}

Async<> Four() {
  P("== 4 one of three fails");
  std::map<std::string, ResolveFn<Unit>> fire;
  auto ev = [&fire](const std::string& n) {
    auto r = Promise<>::WithResolvers();
    fire.emplace(n, r.resolve);
    return r.promise;
  };
  P("main: start ops");
  std::vector<Promise<std::string>> ops = {MayFail("A", ev("A"), false), MayFail("B", ev("B"), true),
                                           MayFail("C", ev("C"), false)};
  Promise<std::vector<std::string>> all = All(ops);
  P("main: fire B");
  fire.at("B")();
  P("main: wait for the join; later: fire A, fire C");
  SetTimeout(
      [fire] {
        P("later: fire A");
        fire.at("A")();
        P("later: fire C");
        fire.at("C")();
      },
      0);
  try {
    co_await all;
    P("main: all succeeded");
  } catch (const std::exception& e) {
    P(std::string("main: caught ") + e.what());
  }
  co_await AllSettled(ops);
  P("main: all settled");
}

// 5. CPU-bound work inside an async function: who is blocked.
std::uint64_t Spin() {
  std::uint64_t x = 1;
  for (std::uint64_t i = 0; i < 2000000; ++i) x = (x * 31 + i) % 1000003;
  return x;
}

Async<> Busy() {
  P("busy: start");
  if (Spin() == static_cast<std::uint64_t>(-1)) P("busy: (unlikely)");
  P("busy: end");
  co_return;
}

Async<> Five() {
  P("== 5 CPU-bound work");
  Promise<> ticked([](ResolveFn<Unit> resolve, RejectFn<Unit>) {
    SetTimeout(
        [resolve] {
          P("tick: runs");
          resolve();
        },
        0);
  });
  P("main: set a 0 ms timer (tick), then call busy");
  Promise<> t = Busy();
  P("main: busy returned");
  co_await t;
  co_await ticked;
}

Async<> Main() {
  co_await One();
  co_await Two();
  co_await Three();
  co_await Four();
  co_await Five();
}

}  // namespace

int main() {
  EventLoop loop;
  loop.Run([] { (void)Main(); });
  return 0;
}
