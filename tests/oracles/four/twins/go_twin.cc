// tests/oracles/four/twins/go_twin.cc: the C++ twin of go/four.go, a thread
// per goroutine (interop/go/). It prints the same trace as Go (compared with
// go/four.expected, no normalization): the Go program prints only lines that
// channels order, and those orders hold for threads too.
//
// What differs and is not in the trace: part 5 runs Go with GOMAXPROCS(1),
// so tick runs only because Go's scheduler preempts the spinning goroutine;
// here the OS preempts (or runs the threads in parallel). Same answer (nobody
// is blocked), different mechanism.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "interop/go/chan.h"
#include "interop/go/goroutine.h"

namespace {

using pollwake::Unit;
using namespace pollwake::go;  // NOLINT: the twin reads like the Go program

void P(const std::string& s) {
  std::printf("%s\n", s.c_str());
  std::fflush(stdout);  // lines come from several threads
}

std::string Join(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

// 1. `go f()`: main prints nothing until f has sent.
void One() {
  P("== 1 unawaited call");
  P("main: go f()");
  Chan<int> out;
  Go([out] {
    P("f: start");
    Gosched();
    P("f: after yield");
    out.Send(1);
  });
  int v = out.Recv();
  P("main: got " + std::to_string(v));
}

// 2. Fan out three waits and join them; the events fire in the order B, C, A.
void Two() {
  P("== 2 fan out and join");
  std::map<std::string, Chan<Unit>> ev{{"A", {}}, {"B", {}}, {"C", {}}};
  Chan<std::string> done;
  P("main: start ops");
  for (const char* n : {"A", "B", "C"}) {
    Go([name = std::string(n), e = ev.at(n), done] {
      e.Recv();
      done.Send(name);
    });
  }
  for (const char* n : {"B", "C", "A"}) {
    P(std::string("main: fire ") + n);
    ev.at(n).Close();
  }
  std::vector<std::string> got{done.Recv(), done.Recv(), done.Recv()};
  P("main: joined " + Join(got) + " (arrival order unspecified)");
}

// 3. Cancel a pending operation with a context.
int Cancellable(const Context& ctx, const Chan<Unit>& ready) {
  struct Defer {
    ~Defer() { P("op: deferred cleanup"); }
  } cleanup;
  P("op: start");
  ready.Send(Unit{});
  ctx.Done().Recv();
  P("op: ctx.Done(): " + ctx.Err());
  return -1;
}

void Three() {
  P("== 3 cancel");
  auto [ctx, cancel] = WithCancel();
  Chan<Unit> ready;
  Chan<int> out;
  P("main: start op");
  Go([ctx = ctx, ready, out] { out.Send(Cancellable(ctx, ready)); });
  ready.Recv();
  P("main: cancel");
  cancel();
  int v = out.Recv();
  P("main: got " + std::to_string(v));
}

// 4. One of three operations panics; each recovers in its own goroutine
// (here: catches) and reports an error value. B's event fires first.
struct Result {
  std::string name;
  std::string err;  // "" : no error
};

void Four() {
  P("== 4 one of three fails");
  std::map<std::string, Chan<Unit>> ev{{"A", {}}, {"B", {}}, {"C", {}}};
  Chan<Result> out;
  P("main: start ops");
  for (const char* n : {"A", "B", "C"}) {
    Go([name = std::string(n), e = ev.at(n), out] {
      try {
        e.Recv();
        if (name == "B") throw std::runtime_error(name + " failed");  // panic(name + " failed")
        out.Send({name, ""});
      } catch (const std::runtime_error& x) {  // defer func() { recover() ... }()
        out.Send({name, x.what()});
      }
    });
  }
  P("main: fire B");
  ev.at("B").Close();
  Result r = out.Recv();
  P("main: first result: " + r.name + " error: " + r.err);
  P("main: fire A");
  ev.at("A").Close();
  P("main: fire C");
  ev.at("C").Close();
  std::vector<std::string> ok;
  for (int i = 0; i < 2; ++i) {
    Result x = out.Recv();
    if (x.err.empty()) {
      ok.push_back(x.name);
    } else {
      P("main: unexpected error " + x.err);
    }
  }
  P("main: the others finished: " + Join(ok));
}

// 5. CPU-bound work in a goroutine: who is blocked.
void Five() {
  P("== 5 CPU-bound work");
  std::atomic<bool> stop{false};
  Chan<Unit> started, busy_done, tick_done;
  P("main: go busy()");
  Go([&stop, started, busy_done] {
    P("busy: start");
    started.Send(Unit{});
    std::uint64_t x = 1;
    // ORDERING: acquire pairs with tick's release store: tick's line is
    // printed before busy's last line (Go's sync/atomic is sequentially
    // consistent, which includes this).
    for (std::uint64_t i = 0; !stop.load(std::memory_order_acquire); ++i) x = x * 6364136223846793005ULL + i;
    if (x == 0) P("unlikely");
    P("busy: end (tick stopped it)");
    busy_done.Close();
  });
  started.Recv();
  P("main: go tick() while busy spins");
  Go([&stop, tick_done] {
    P("tick: runs");
    // ORDERING: release pairs with busy's acquire load: tick's line is
    // printed before busy's last line.
    stop.store(true, std::memory_order_release);
    tick_done.Close();
  });
  tick_done.Recv();
  busy_done.Recv();
  P("main: both finished");
}

}  // namespace

int main() {
  One();
  Two();
  Three();
  Four();
  Five();
  Goroutines::JoinAll();
  return 0;
}
