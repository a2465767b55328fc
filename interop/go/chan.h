// interop/go/chan.h
//
// Models Go's unbuffered channel `chan T` (make(chan T)) for a twin that
// runs each goroutine on its own thread (goroutine.h).
//
//   Go                          pollwake::go
//   ch := make(chan T)          Chan<T> ch;   (copies share one channel)
//   ch <- v                     ch.Send(v)
//   v := <-ch                   T v = ch.Recv();
//   v, ok := <-ch               auto [v, ok] = ch.RecvOk();
//   close(ch)                   ch.Close()
//
// What a reader may rely on (Go's rules): a send blocks until a receiver has
// taken the value (a rendezvous), so everything the sender did before the
// send happens before everything the receiver does after the receive. A
// receive on a closed, empty channel returns at once with T{} (ok = false);
// closing wakes every blocked receiver, which is how one close() broadcasts
// (context.Done() works that way).
//
// Misuse, as in Go, panics: a send on a closed channel and a second close
// throw std::logic_error ("send on closed channel", "close of closed
// channel"). A goroutine blocked forever stays blocked (Go would report "all
// goroutines are asleep - deadlock!" if none can run; not modelled).
//
// How pollwake differs, and why: Go parks a goroutine (a few KB of stack)
// and runs another on the same OS thread; here a blocked "goroutine" is a
// blocked OS thread waiting on a condition variable. The ordering promises
// are the same; the cost is not (docs/10_four_answers.md). select and
// buffered channels are not modelled.
#ifndef POLLWAKE_INTEROP_GO_CHAN_H_
#define POLLWAKE_INTEROP_GO_CHAN_H_

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <utility>

namespace pollwake::go {

template <class T>
class Chan {
 public:
  Chan() : s_(std::make_shared<State>()) {}

  void Send(T v) const {
    std::unique_lock<std::mutex> lock(s_->mu);
    // Wait for the slot (other senders may be ahead).
    s_->cv.wait(lock, [&] { return s_->closed || !s_->slot.has_value(); });
    if (s_->closed) throw std::logic_error("send on closed channel");
    s_->slot.emplace(std::move(v));
    const std::uint64_t mine = ++s_->sent;
    s_->cv.notify_all();
    // Rendezvous: return only once a receiver has taken this value.
    s_->cv.wait(lock, [&] { return s_->taken >= mine; });
  }

  std::pair<T, bool> RecvOk() const {
    std::unique_lock<std::mutex> lock(s_->mu);
    s_->cv.wait(lock, [&] { return s_->slot.has_value() || s_->closed; });
    if (!s_->slot.has_value()) return {T{}, false};  // closed and empty
    T v = std::move(*s_->slot);
    s_->slot.reset();
    ++s_->taken;
    s_->cv.notify_all();
    return {std::move(v), true};
  }
  T Recv() const { return RecvOk().first; }

  void Close() const {
    std::lock_guard<std::mutex> lock(s_->mu);
    if (s_->closed) throw std::logic_error("close of closed channel");
    s_->closed = true;
    s_->cv.notify_all();
  }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<T> slot;   // guarded by mu: the value being handed over
    std::uint64_t sent = 0;  // guarded by mu: values put in the slot so far
    std::uint64_t taken = 0; // guarded by mu: values taken so far
    bool closed = false;     // guarded by mu
  };
  std::shared_ptr<State> s_;
};

}  // namespace pollwake::go

#endif  // POLLWAKE_INTEROP_GO_CHAN_H_
