// bench/peers/asio_echo.cc: the echo server of the echo race on Boost.Asio,
// the way Asio's own async_tcp_echo_server example writes it: a session per
// connection (shared_ptr), async_read_some then async_write, 4 KiB buffer,
// TCP_NODELAY.
//
// Usage: asio_echo [--threads N] [--port P] [--unsafe 1]
//   --threads 1: one io_context run by one thread (Asio's one-thread model)
//   --threads N: one io_context run by N threads (Asio's thread-pool model)
//   --unsafe 1:  with --threads 1, the hint BOOST_ASIO_CONCURRENCY_HINT_UNSAFE
//                (no locking in the scheduler or the reactor: what Asio's
//                documentation offers a program that touches its io_context
//                from one thread only, as this one does)
// Built as asio_echo_nothreads (BUILD defines BOOST_ASIO_DISABLE_THREADS):
// Asio's compile-time switch for a program with one thread, which makes its
// mutexes and events empty, its thread-local storage a plain pointer and its
// atomic counters plain integers; that build takes --threads 1 only.
// Prints "listening on 127.0.0.1:<port>" when ready; serves until killed.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <utility>  // before Boost: its awaitable.hpp uses std::exchange without it
#include <vector>

#include <boost/asio.hpp>

using boost::asio::ip::tcp;

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(tcp::socket s) : s_(std::move(s)) {}
  void start() {
    s_.set_option(tcp::no_delay(true));
    read();
  }

 private:
  void read() {
    auto self = shared_from_this();
    s_.async_read_some(boost::asio::buffer(buf_),
                       [this, self](boost::system::error_code ec, std::size_t n) {
                         if (!ec) write(n);
                       });
  }
  void write(std::size_t n) {
    auto self = shared_from_this();
    boost::asio::async_write(s_, boost::asio::buffer(buf_, n),
                             [this, self](boost::system::error_code ec, std::size_t) {
                               if (!ec) read();
                             });
  }
  tcp::socket s_;
  char buf_[4096];
};

void accept(tcp::acceptor& a) {
  a.async_accept([&a](boost::system::error_code ec, tcp::socket s) {
    if (!ec) std::make_shared<Session>(std::move(s))->start();
    accept(a);
  });
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1, port = 0;
  bool unsafe = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--port")) port = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--unsafe")) unsafe = std::atoi(argv[i + 1]) != 0;
  }
  if (unsafe && threads != 1) {
    std::fprintf(stderr, "asio_echo: --unsafe needs --threads 1\n");
    return 2;
  }
#ifdef BOOST_ASIO_DISABLE_THREADS
  if (threads != 1) {
    std::fprintf(stderr, "asio_echo: built with BOOST_ASIO_DISABLE_THREADS, so --threads 1 only\n");
    return 2;
  }
#endif
  // The concurrency hint 1 is Asio's documented hint for one thread: its
  // scheduler then uses thread-private operation queues, with its mutexes
  // still on. BOOST_ASIO_CONCURRENCY_HINT_UNSAFE also switches those off
  // (safe here: one thread runs the io_context and nothing else touches it).
  boost::asio::io_context io(unsafe ? BOOST_ASIO_CONCURRENCY_HINT_UNSAFE : threads);
  tcp::acceptor a(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"),
                                    static_cast<unsigned short>(port)));
  std::printf("listening on 127.0.0.1:%u\n", a.local_endpoint().port());
  std::fflush(stdout);
  accept(a);
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : pool) t.join();
  return 0;
}
