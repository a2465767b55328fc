// bench/echo_bench.cc: the load generator of the echo race, the same program
// for every server (pollwake, tokio, Boost.Asio).
//
// It opens C connections to an echo server on loopback and, on each, does M
// round trips one after another: send 64 bytes, wait until the 64 bytes have
// come back, send again. All connections are in flight at once, multiplexed
// by one thread over plain epoll (level-triggered; no pollwake code, so the
// client is the same whatever server it measures). It reports:
//   round_trips_per_s  C*M divided by the time from the first send to the
//                      last reply
//   p50_us, p99_us     the latency of one round trip (send to last byte back)
//   ns_per_op          1e9 / round_trips_per_s (the house counter)
//
// Usage: echo_bench --addr 127.0.0.1:PORT [--connections C] [--round-trips M]
//                   [--name NAME]
// Output: one JSON object on stdout.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kMsg = 64;

struct Conn {
  int fd = -1;
  int received = 0;  // bytes of the current reply
  int done = 0;      // completed round trips
  Clock::time_point sent;
};

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "echo_bench: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  std::string addr = "127.0.0.1:7000", name = "server";
  int conns = 50, trips = 2000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--addr") addr = argv[i + 1];
    else if (k == "--connections") conns = std::atoi(argv[i + 1]);
    else if (k == "--round-trips") trips = std::atoi(argv[i + 1]);
    else if (k == "--name") name = argv[i + 1];
    else {
      std::fprintf(stderr, "echo_bench: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  std::size_t colon = addr.rfind(':');
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(std::atoi(addr.c_str() + colon + 1)));
  if (inet_pton(AF_INET, addr.substr(0, colon).c_str(), &sa.sin_addr) != 1) {
    std::fprintf(stderr, "echo_bench: bad --addr %s\n", addr.c_str());
    return 2;
  }

  int ep = epoll_create1(EPOLL_CLOEXEC);
  std::vector<Conn> c(conns);
  for (int i = 0; i < conns; ++i) {
    c[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c[i].fd < 0) die("socket");
    // SAFETY: sockaddr_in is the AF_INET layout of sockaddr.
    if (connect(c[i].fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) die("connect");
    int one = 1;
    setsockopt(c[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<uint32_t>(i);
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev) != 0) die("epoll_ctl");
  }
  char msg[kMsg];
  std::memset(msg, 'e', sizeof msg);
  std::vector<uint32_t> lat;
  lat.reserve(static_cast<std::size_t>(conns) * trips);
  auto send_one = [&](Conn& k) {
    k.received = 0;
    k.sent = Clock::now();
    if (send(k.fd, msg, kMsg, MSG_NOSIGNAL) != kMsg) die("send");  // 64 bytes always fit
  };
  Clock::time_point start = Clock::now();
  for (auto& k : c) send_one(k);
  int active = conns;
  std::vector<epoll_event> evs(256);
  char buf[4096];
  while (active > 0) {
    int n = epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), 10000);
    if (n == 0) {
      std::fprintf(stderr, "echo_bench: no reply for 10 s from %s\n", addr.c_str());
      return 1;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      Conn& k = c[evs[i].data.u32];
      ssize_t r = recv(k.fd, buf, sizeof buf, 0);
      if (r <= 0) {
        std::fprintf(stderr, "echo_bench: the server closed or failed\n");
        return 1;
      }
      k.received += static_cast<int>(r);
      if (k.received < kMsg) continue;
      lat.push_back(static_cast<uint32_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - k.sent).count()));
      if (++k.done < trips) {
        send_one(k);
      } else {
        --active;
        epoll_ctl(ep, EPOLL_CTL_DEL, k.fd, nullptr);
      }
    }
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto& k : c) close(k.fd);
  close(ep);
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) { return lat[static_cast<std::size_t>(p * (lat.size() - 1))] / 1000.0; };
  double rps = static_cast<double>(lat.size()) / secs;
  std::printf(
      "{\"name\": \"%s\", \"connections\": %d, \"round_trips\": %d, \"round_trips_per_s\": %.0f, "
      "\"p50_us\": %.1f, \"p99_us\": %.1f, \"ns_per_op\": %.1f}\n",
      name.c_str(), conns, trips, rps, pct(0.50), pct(0.99), 1e9 / rps);
  return 0;
}
