// examples/line_server.cc: a small line-protocol server on the one-thread
// runtime that you can talk to with `nc`. Many clients at once, one thread,
// one shared key-value store (no lock: every task runs on the same thread).
//
//   bazel run //examples:line_server -- --port 7000
//   nc 127.0.0.1 7000          (in another terminal; several at once)
//
// Commands (one per line, answers end with "\n"):
//   PING              -> PONG
//   ECHO <text>       -> <text>
//   UPPER <text>      -> <TEXT>
//   SET <key> <value> -> OK
//   GET <key>         -> <value>, or (nil)
//   CLIENTS           -> how many clients are connected now
//   HELP              -> the list of commands
//   QUIT              -> BYE, and the server closes the connection
//   anything else     -> ERR unknown command '<word>'
// A line longer than 1024 bytes gets "ERR line too long" and the connection
// is closed (a client cannot make the server buffer without bound). The
// server prints "listening on 127.0.0.1:<port>" when it is ready (--port 0
// picks a free port), and serves until killed or, with --max-connections N,
// until N connections have come and gone.
//
// The Rust program this mirrors is the one every tokio tutorial grows into:
// `loop { let (s, _) = listener.accept().await?; tokio::spawn(handle(s, db.clone())); }`
// with a `BufReader::lines()` per connection.

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "interop/coro/async_fn.h"
#include "reactor/runtime.h"
#include "reactor/tcp.h"

using pollwake::coro::Async;
using pollwake::reactor::ErrorKind;
using pollwake::reactor::IoResult;
using pollwake::reactor::LocalRuntime;
using pollwake::reactor::SocketAddr;
using pollwake::reactor::TcpListener;
using pollwake::reactor::TcpStream;

namespace {

constexpr std::size_t kMaxLine = 1024;

struct Server {
  std::map<std::string, std::string> store;  // shared by every connection's task
  int clients = 0;
  int finished = 0;
};

// LineReader: reads from a stream and hands out one line at a time
// (tokio's BufReader::lines()). nullopt at EOF or on an error; `too_long`
// when a line exceeds kMaxLine.
class LineReader {
 public:
  explicit LineReader(TcpStream& s) : s_(s) {}
  bool too_long = false;

  Async<std::optional<std::string>> next() {
    for (;;) {
      std::size_t nl = buf_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();  // telnet-style endings
        co_return line;
      }
      if (buf_.size() > kMaxLine) {
        too_long = true;
        co_return std::nullopt;
      }
      char chunk[512];
      IoResult<std::size_t> n = co_await s_.read(chunk, sizeof chunk);
      if (n.is_err() || n.value() == 0) co_return std::nullopt;
      buf_.append(chunk, n.value());
    }
  }

 private:
  TcpStream& s_;
  std::string buf_;
};

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// One command line -> the answer (without "\n"); *quit set on QUIT.
std::string answer(Server& srv, std::string_view line, bool* quit) {
  std::size_t sp = line.find(' ');
  std::string cmd = upper(std::string(line.substr(0, sp)));
  std::string_view rest = sp == std::string_view::npos ? "" : line.substr(sp + 1);
  if (cmd == "PING") return "PONG";
  if (cmd == "ECHO") return std::string(rest);
  if (cmd == "UPPER") return upper(std::string(rest));
  if (cmd == "SET") {
    std::size_t ksp = rest.find(' ');
    if (ksp == std::string_view::npos || ksp == 0) return "ERR usage: SET <key> <value>";
    srv.store[std::string(rest.substr(0, ksp))] = std::string(rest.substr(ksp + 1));
    return "OK";
  }
  if (cmd == "GET") {
    auto it = srv.store.find(std::string(rest));
    return it == srv.store.end() ? "(nil)" : it->second;
  }
  if (cmd == "CLIENTS") return std::to_string(srv.clients);
  if (cmd == "HELP") return "PING | ECHO <text> | UPPER <text> | SET <k> <v> | GET <k> | CLIENTS | QUIT";
  if (cmd == "QUIT") {
    *quit = true;
    return "BYE";
  }
  if (cmd.empty()) return "ERR empty line";
  return "ERR unknown command '" + cmd + "'";
}

Async<> handle(Server& srv, TcpStream s) {
  ++srv.clients;
  LineReader lines(s);
  for (;;) {
    std::optional<std::string> line = co_await lines.next();
    if (!line) {
      if (lines.too_long) (void)co_await s.write_all(std::string_view("ERR line too long\n"));
      break;
    }
    bool quit = false;
    std::string out = answer(srv, *line, &quit) + "\n";
    if ((co_await s.write_all(out)).is_err() || quit) break;
  }
  --srv.clients;
  ++srv.finished;
}

Async<> accept_loop(LocalRuntime& rt, TcpListener& listener, Server& srv) {
  for (;;) {
    IoResult<TcpStream> s = co_await listener.accept();
    if (s.is_err()) {
      std::fprintf(stderr, "accept: %s\n", s.error().message().c_str());
      if (s.error().kind() == ErrorKind::kReactorGone) co_return;
      // Out of descriptors or a transient error: back off and retry; the
      // connection waits in the backlog.
      co_await pollwake::reactor::sleep(rt.handle(), std::chrono::milliseconds(10));
      continue;
    }
    rt.spawn(handle(srv, std::move(s).value()));
  }
}

}  // namespace

int main(int argc, char** argv) {
  int port = 7000;
  int max_connections = -1;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
      port = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--max-connections") == 0 && i + 1 < argc) {
      max_connections = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: line_server [--port N] [--max-connections N]\n");
      return 2;
    }
  }
  LocalRuntime rt;
  IoResult<TcpListener> bound =
      TcpListener::bind(rt.handle(), SocketAddr::loopback(static_cast<std::uint16_t>(port)));
  if (bound.is_err()) {
    std::fprintf(stderr, "bind 127.0.0.1:%d: %s\n", port, bound.error().message().c_str());
    return 1;
  }
  TcpListener listener = std::move(bound).value();
  Server srv;
  std::printf("listening on %s\n", listener.local_addr().value().to_string().c_str());
  std::fflush(stdout);
  rt.spawn(accept_loop(rt, listener, srv));
  // Serve until --max-connections connections have finished (or forever).
  struct Until {
    using Output = pollwake::Unit;
    Server* srv;
    int n;
    LocalRuntime* rt;
    std::optional<pollwake::reactor::Sleep> tick;
    pollwake::Poll<pollwake::Unit> poll(pollwake::Context& cx) {
      for (;;) {
        if (n >= 0 && srv->finished >= n) return pollwake::Ready();
        // Re-check every 50 ms (a teaching shortcut for a shutdown signal).
        if (!tick) tick.emplace(pollwake::reactor::sleep(rt->handle(), std::chrono::milliseconds(50)));
        if (tick->poll(cx).is_pending()) return pollwake::Pending;
        tick.reset();
      }
    }
  };
  rt.block_on(Until{&srv, max_connections, &rt, std::nullopt});
  std::printf("served %d connections\n", srv.finished);
  return 0;
}
