// bench/echo_server.cc: pollwake's echo server for the echo race
// (bench/echo_race.sh): one task per connection, read then write_all, 4 KiB
// buffer, TCP_NODELAY, as tokio's and Asio's peers do.
//
// Usage: echo_server [--mode local|pool] [--threads N] [--port P]
//   local: LocalRuntime, one thread (tasks and the reactor on main's thread)
//   pool:  PoolRuntime, N ThreadPool workers plus the reactor's own thread
// Prints "listening on 127.0.0.1:<port>" when ready; serves until killed.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/synchronization/mutex.h"
#include "interop/coro/async_fn.h"
#include "poll/ready.h"
#include "reactor/runtime.h"
#include "reactor/tcp.h"

using namespace pollwake::reactor;
using pollwake::coro::Async;

namespace {

// [START echo_task]
Async<> serve(TcpStream s) {
  (void)s.set_nodelay(true);
  char buf[4096];
  for (;;) {
    IoResult<std::size_t> n = co_await s.read(buf, sizeof buf);
    if (n.is_err() || n.value() == 0) co_return;
    if ((co_await s.write_all(buf, n.value())).is_err()) co_return;
  }
}
// [END echo_task]

template <class Rt>
Async<> accept_loop(Rt& rt, TcpListener& l) {
  for (;;) {
    IoResult<TcpStream> s = co_await l.accept();
    if (s.is_err()) {
      std::fprintf(stderr, "accept: %s\n", s.error().message().c_str());
      co_await sleep(rt.handle(), std::chrono::milliseconds(10));
      continue;
    }
    rt.spawn(serve(std::move(s).value()));
  }
}

template <class Rt>
void run(Rt& rt, int port) {
  TcpListener l =
      TcpListener::bind(rt.handle(), SocketAddr::loopback(static_cast<std::uint16_t>(port))).value();
  std::printf("listening on %s\n", l.local_addr().value().to_string().c_str());
  std::fflush(stdout);
  if constexpr (std::is_same_v<Rt, LocalRuntime>) {
    rt.block_on(accept_loop(rt, l));
  } else {
    rt.spawn(accept_loop(rt, l));
    rt.block_on(pollwake::pending<pollwake::Unit>());
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = "local";
  int threads = 2, port = 0;
  // Abseil's deadlock detector off, as an NDEBUG build of Abseil has it
  // (the reason is in bench/bench_main.cc).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--mode")) mode = argv[i + 1];
    else if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--port")) port = std::atoi(argv[i + 1]);
  }
  if (mode == "local") {
    LocalRuntime rt;
    run(rt, port);
  } else {
    PoolRuntime rt(static_cast<std::size_t>(threads));
    run(rt, port);
  }
  return 0;
}
