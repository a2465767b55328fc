// tests/reactor/line_server_test.cc: runs examples/line_server as a child
// process and talks to it over loopback with many clients at once: every
// command, the shared store, the line-length limit, and a clean exit after
// --max-connections connections.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "interop/coro/async_fn.h"
#include "poll/oneshot.h"
#include "reactor/runtime.h"
#include "reactor/tcp.h"
#include "tests/reactor/test_support.h"

extern char** environ;

namespace pollwake::reactor {
namespace {

std::string g_binary;

// Sends each line, reads each answer line; returns the answers joined by '|'.
coro::Async<std::string> session(Handle h, SocketAddr addr, std::vector<std::string> lines) {
  IoResult<TcpStream> c = co_await TcpStream::connect(h, addr);
  if (c.is_err()) co_return "connect failed";
  TcpStream s = std::move(c).value();
  std::string out, pending;
  char buf[512];
  for (const std::string& l : lines) {
    if ((co_await s.write_all(l + "\n")).is_err()) co_return out + "|write failed";
    for (;;) {
      std::size_t nl = pending.find('\n');
      if (nl != std::string::npos) {
        out += (out.empty() ? "" : "|") + pending.substr(0, nl);
        pending.erase(0, nl + 1);
        break;
      }
      IoResult<std::size_t> n = co_await s.read(buf, sizeof buf);
      if (n.is_err() || n.value() == 0) co_return out + "|EOF";
      pending.append(buf, n.value());
    }
  }
  co_return out;
}

TEST(LineServerTest, ServesManyClientsAndExitsCleanly) {
  testing::Watchdog dog("ServesManyClientsAndExitsCleanly");
  ASSERT_FALSE(g_binary.empty()) << "usage: line_server_test LINE_SERVER_BINARY";
  const int clients = 30;
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_addclose(&fa, out[0]);
  std::string n = std::to_string(clients + 1);
  std::vector<char*> argv = {g_binary.data(), const_cast<char*>("--port"), const_cast<char*>("0"),
                             const_cast<char*>("--max-connections"), n.data(), nullptr};
  pid_t pid;
  ASSERT_EQ(posix_spawn(&pid, g_binary.c_str(), &fa, nullptr, argv.data(), environ), 0);
  ::close(out[1]);
  FILE* child_out = ::fdopen(out[0], "r");
  char first[128] = {};
  ASSERT_NE(std::fgets(first, sizeof first, child_out), nullptr);
  std::string banner = first;
  ASSERT_EQ(banner.rfind("listening on ", 0), 0u) << banner;
  auto addr = SocketAddr::parse(banner.substr(13, banner.find('\n') - 13));
  ASSERT_TRUE(addr.has_value()) << banner;

  LocalRuntime rt;
  // One client sets a key; then `clients` clients run at once and read it.
  std::vector<std::string> first_cmds{"SET color blue", "GET color", "QUIT"};
  EXPECT_EQ(rt.block_on(session(rt.handle(), *addr, first_cmds)), "OK|blue|BYE");
  std::vector<oneshot::Receiver<std::string>> results;
  for (int i = 0; i < clients - 1; ++i) {
    auto [tx, rx] = oneshot::channel<std::string>();
    results.push_back(std::move(rx));
    std::string msg = "hello " + std::to_string(i);
    rt.spawn([](Handle h, SocketAddr a, std::string msg,
                oneshot::Sender<std::string> tx) -> coro::Async<> {
      std::vector<std::string> cmds{"PING",      "ECHO " + msg,  "upper " + msg, "GET color",
                                    "GET nothing", "FROB",       "QUIT"};
      (void)tx.send(co_await session(h, a, std::move(cmds)));
    }(rt.handle(), *addr, msg, std::move(tx)));
  }
  for (int i = 0; i < clients - 1; ++i) {
    auto r = rt.block_on(std::move(results[i]));
    ASSERT_TRUE(r.is_ok());
    std::string msg = "hello " + std::to_string(i);
    EXPECT_EQ(r.value(), "PONG|" + msg + "|HELLO " + std::to_string(i) +
                             "|blue|(nil)|ERR unknown command 'FROB'|BYE");
  }
  // A line over the limit: an error line, then the server closes.
  std::vector<std::string> long_line{std::string(5000, 'x')};
  EXPECT_EQ(rt.block_on(session(rt.handle(), *addr, long_line)), "ERR line too long");

  // --max-connections reached: the server exits on its own.
  char last[128] = {};
  ASSERT_NE(std::fgets(last, sizeof last, child_out), nullptr);
  EXPECT_EQ(std::string(last), "served " + std::to_string(clients + 1) + " connections\n");
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  std::fclose(child_out);
  posix_spawn_file_actions_destroy(&fa);
}

}  // namespace
}  // namespace pollwake::reactor

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc > 1) pollwake::reactor::g_binary = argv[1];
  return RUN_ALL_TESTS();
}
