// poll/mpsc.h
//
// Models `futures::channel::mpsc`: multi-producer, single-consumer channels,
// bounded (senders wait for room) and unbounded, whose receiver is a stream.
//
//   Rust                                   pollwake
//   mpsc::channel::<T>(buffer)             mpsc::channel<T>(buffer)
//                                            -> std::pair<Sender<T>, Receiver<T>>
//   mpsc::unbounded::<T>()                 mpsc::unbounded<T>()
//                                            -> std::pair<UnboundedSender<T>, UnboundedReceiver<T>>
//   tx.clone()                             copy construction
//   tx.send(v).await   (SinkExt::send)     tx.send(v) -> SendFuture<T>,
//                                            Output Result<Unit, SendError<T>>
//   tx.try_send(v)                         same -> Result<Unit, TrySendError<T>>
//   tx.unbounded_send(v)                   same -> Result<Unit, TrySendError<T>>
//   tx.is_closed()                         same
//   rx.poll_next(cx)   (Stream)            rx.poll_next(cx) -> Poll<std::optional<T>>
//   rx.next().await    (StreamExt::next)   rx.next() -> Next<T>, Output std::optional<T>
//   rx.try_next()                          same -> Result<std::optional<T>, TryRecvError>
//   rx.close()                             same
//
// What each side may rely on:
//   * Messages arrive in the order each sender sent them.
//   * poll_next returns Ready(v) while messages are queued, even after every
//     sender is gone or close() was called; then Ready(nullopt) once the
//     queue is empty and no message can come (every sender dropped, or the
//     receiver closed). After that it keeps returning Ready(nullopt) (the
//     stream is fused, as futures-rs's receiver is).
//   * A send to a closed channel (receiver dropped or closed) fails and
//     gives the value back: SendError<T>::value / TrySendError<T>::into_inner.
//   * A bounded send waits (Pending) while `buffer` messages are queued and
//     is woken when the receiver takes one or the channel closes.
//   * Dropping the Receiver destroys every message still queued; dropping a
//     SendFuture that has not sent destroys its value.
//   * All methods may be called from any thread; wakers are woken after the
//     lock is released. Senders (and their clones) may be used from many
//     threads at once; the one Receiver is used by one thread at a time
//     (single consumer).
//
// How pollwake differs, and why:
//   * Capacity: futures-rs gives each sender one guaranteed slot on top of
//     `buffer` (capacity = buffer + number of senders, and buffer 0 is
//     allowed). pollwake's capacity is exactly `buffer` (as tokio's mpsc),
//     which is easier to reason about; buffer 0 is refused with
//     std::invalid_argument.
//   * Rust's Sink splits a send into poll_ready (wait for room) and
//     start_send (queue the message). SendFuture::poll does both in one step
//     under the lock, so no other sender can take the room in between
//     (futures-rs gets the same guarantee from its per-sender slot).
//   * A SendFuture holds its own clone of the Sender (Rust's `Send<'_, ..>`
//     borrows it), so the channel stays open while a send is in flight and
//     the future cannot dangle.
//   * When the receiver takes a message, every bounded sender waiting for
//     room is woken, and all but one find the channel full again and wait
//     once more. futures-rs keeps a queue of parked senders and unparks one
//     per message; waking all is the teaching simplification, correct but
//     O(waiting senders) per message.
//   * One Receiver type serves both kinds; UnboundedReceiver<T> is an alias.
//
// The state is one std::mutex-guarded struct: a queue, the sender count and
// the wakers. A plain mutex, not an async one, because nothing waits while
// it is held. Memory ordering: the mutex orders everything.
//
// Its promises, and the tests that check them, are written once in
// docs/guarantees.md ("AtomicWaker and channels").
#ifndef POLLWAKE_POLL_MPSC_H_
#define POLLWAKE_POLL_MPSC_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "poll/arc.h"
#include "poll/context.h"
#include "poll/latest_waker.h"
#include "poll/poll.h"
#include "poll/result.h"
#include "poll/waker.h"

namespace pollwake {
namespace mpsc {

// SendError<T>: a bounded send() found the channel closed; `value` is the
// message, handed back.
template <class T>
struct SendError {
  T value;
};

// TrySendError<T>: try_send / unbounded_send failed; the message comes back.
template <class T>
struct TrySendError {
  enum class Kind { kFull, kDisconnected };
  Kind kind;
  T value;
  // TrySendError::is_full: a bounded channel had no room.
  bool is_full() const noexcept { return kind == Kind::kFull; }
  // TrySendError::is_disconnected: the receiver was dropped or closed.
  bool is_disconnected() const noexcept { return kind == Kind::kDisconnected; }
  // TrySendError::into_inner: the message that was not sent.
  T into_inner() && { return std::move(value); }
};

// TryRecvError: try_next found the queue empty while senders remain.
struct TryRecvError {
  friend constexpr bool operator==(TryRecvError, TryRecvError) noexcept { return true; }
};

namespace detail {

template <class T>
struct Chan {
  explicit Chan(std::size_t cap) : capacity(cap) {}

  std::mutex mu;
  const std::size_t capacity;  // max queued messages; SIZE_MAX when unbounded
  std::deque<T> queue;                // written under mu
  std::size_t senders = 1;            // written under mu: live Sender objects
  bool closed = false;                // written under mu: receiver closed or dropped
  LatestWaker recv_waker;             // written under mu: the receiver's task
  // Written under mu: bounded senders waiting for room, by ticket, so a
  // SendFuture can refresh or remove its own entry.
  std::vector<std::pair<std::uint64_t, Waker>> send_waiters;
  std::uint64_t next_ticket = 1;      // written under mu

  // Push result, decided under mu.
  enum class Push { kSent, kFull, kClosed };

  // Under mu: queue `v` if there is room, and take the receiver's waker.
  Push try_push(T& v, TakenWaker& to_wake) {
    if (closed) return Push::kClosed;
    if (queue.size() >= capacity) return Push::kFull;
    queue.push_back(std::move(v));
    to_wake = recv_waker.take();
    return Push::kSent;
  }
  // Under mu: removes a waiting sender's entry, if still there.
  void forget_waiter(std::uint64_t ticket) {
    std::erase_if(send_waiters, [ticket](const auto& e) { return e.first == ticket; });
  }
};

inline void wake_all(std::vector<std::pair<std::uint64_t, Waker>> waiters) {
  for (auto& [ticket, w] : waiters) std::move(w).wake();
}

// SenderHandle: what Sender and UnboundedSender share: one counted reference
// to the channel. Copy = Rust's clone (the count goes up); the last one to go
// wakes the receiver, which then sees the end of the stream.
template <class T>
class SenderHandle {
 public:
  explicit SenderHandle(Arc<Chan<T>> chan) : chan_(std::move(chan)) {}
  SenderHandle(const SenderHandle& other) : chan_(other.chan_) {
    if (!chan_) return;
    std::lock_guard lock(chan_->mu);
    ++chan_->senders;
  }
  SenderHandle(SenderHandle&&) noexcept = default;
  SenderHandle& operator=(SenderHandle other) noexcept {
    std::swap(chan_, other.chan_);
    return *this;  // the old handle is released as `other` dies
  }
  ~SenderHandle() {
    if (!chan_) return;
    TakenWaker to_wake;
    {
      std::lock_guard lock(chan_->mu);
      if (--chan_->senders == 0) to_wake = chan_->recv_waker.take();
    }
    std::move(to_wake).wake();
  }

  Result<Unit, TrySendError<T>> try_send(T v) {
    using K = typename TrySendError<T>::Kind;
    if (!chan_) return Err(TrySendError<T>{K::kDisconnected, std::move(v)});
    TakenWaker to_wake;
    typename Chan<T>::Push r;
    {
      std::lock_guard lock(chan_->mu);
      r = chan_->try_push(v, to_wake);
    }
    std::move(to_wake).wake();
    if (r == Chan<T>::Push::kSent) return Ok(Unit{});
    return Err(TrySendError<T>{r == Chan<T>::Push::kFull ? K::kFull : K::kDisconnected,
                               std::move(v)});
  }

  bool is_closed() const {
    if (!chan_) return true;
    std::lock_guard lock(chan_->mu);
    return chan_->closed;
  }

  const Arc<Chan<T>>& chan() const { return chan_; }

 private:
  Arc<Chan<T>> chan_;  // empty only when moved from
};

}  // namespace detail

template <class T>
class Receiver;

// SendFuture<T>: the future of Sender::send. Ready(Ok) once the message is
// queued, Ready(Err(SendError{v})) if the channel closed first; Pending
// (with the waker stored) while the channel is full.
template <class T>
class SendFuture {
 public:
  using Output = Result<Unit, SendError<T>>;

  SendFuture(detail::SenderHandle<T> tx, T value)
      : tx_(std::move(tx)), value_(std::move(value)) {}
  // Moves the message: noexcept exactly when moving a T is.
  SendFuture(SendFuture&& other) noexcept(std::is_nothrow_move_constructible_v<T>)
      : tx_(std::move(other.tx_)),
        value_(std::exchange(other.value_, std::nullopt)),
        ticket_(std::exchange(other.ticket_, 0)) {}
  SendFuture& operator=(SendFuture&&) = delete;

  ~SendFuture() {
    if (ticket_ == 0 || !tx_.chan()) return;
    std::lock_guard lock(tx_.chan()->mu);
    tx_.chan()->forget_waiter(ticket_);
  }

  Poll<Output> poll(Context& cx) {
    if (!value_) polled_after_completion("mpsc::SendFuture");
    auto& chan = tx_.chan();
    if (!chan) return finish(false);
    TakenWaker to_wake;
    typename detail::Chan<T>::Push r;
    {
      std::lock_guard lock(chan->mu);
      r = chan->try_push(*value_, to_wake);
      if (r == detail::Chan<T>::Push::kFull) {
        // Room may come later: store (or refresh) this task's waker. The
        // check and the registration happen under one lock, so a message
        // taken between them cannot be missed.
        auto it = std::find_if(chan->send_waiters.begin(), chan->send_waiters.end(),
                               [this](const auto& e) { return e.first == ticket_; });
        if (it != chan->send_waiters.end()) {
          it->second.clone_from(cx.waker());
        } else {
          ticket_ = chan->next_ticket++;
          chan->send_waiters.emplace_back(ticket_, cx.waker());
        }
        return Pending;
      }
      if (ticket_ != 0) chan->forget_waiter(ticket_);
      ticket_ = 0;
    }
    std::move(to_wake).wake();
    return finish(r == detail::Chan<T>::Push::kSent);
  }

 private:
  Poll<Output> finish(bool sent) {
    std::optional<T> v = std::exchange(value_, std::nullopt);  // now finished
    if (sent) return Ready(Output(Ok(Unit{})));
    return Ready(Output(Err(SendError<T>{std::move(*v)})));
  }

  detail::SenderHandle<T> tx_;
  std::optional<T> value_;  // the message; empty once Ready was returned
  std::uint64_t ticket_ = 0;  // our entry in send_waiters; 0 = none
};

// Sender<T>: the sending half of a bounded channel. Copy = clone.
template <class T>
class Sender {
 public:
  // Sender::send: a future that queues `value` once there is room.
  SendFuture<T> send(T value) { return SendFuture<T>(handle_, std::move(value)); }
  // Sender::try_send: queues `value` now, or fails with kFull (no room) or
  // kDisconnected (receiver gone), giving the value back.
  Result<Unit, TrySendError<T>> try_send(T value) { return handle_.try_send(std::move(value)); }
  // Sender::is_closed: the receiver was dropped or closed.
  bool is_closed() const { return handle_.is_closed(); }

 private:
  template <class U>
  friend std::pair<Sender<U>, Receiver<U>> channel(std::size_t);
  explicit Sender(detail::SenderHandle<T> h) : handle_(std::move(h)) {}
  detail::SenderHandle<T> handle_;
};

// UnboundedSender<T>: the sending half of an unbounded channel. Copy = clone.
template <class T>
class UnboundedSender {
 public:
  // UnboundedSender::unbounded_send: queues `value` now; fails only when the
  // receiver is gone (kDisconnected), giving the value back.
  Result<Unit, TrySendError<T>> unbounded_send(T value) {
    return handle_.try_send(std::move(value));
  }
  bool is_closed() const { return handle_.is_closed(); }

 private:
  template <class U>
  friend std::pair<UnboundedSender<U>, Receiver<U>> unbounded();
  explicit UnboundedSender(detail::SenderHandle<T> h) : handle_(std::move(h)) {}
  detail::SenderHandle<T> handle_;
};

template <class T>
class Next;

// Receiver<T>: the receiving half (bounded or unbounded); a stream.
template <class T>
class Receiver {
 public:
  Receiver(Receiver&&) noexcept = default;
  Receiver& operator=(Receiver&& other) noexcept {
    if (this != &other) {
      Receiver old(std::move(*this));
      chan_ = std::move(other.chan_);
    }
    return *this;
  }
  Receiver(const Receiver&) = delete;  // single consumer
  Receiver& operator=(const Receiver&) = delete;

  // Dropping the Receiver closes the channel, destroys queued messages,
  // releases its own stored waker and wakes every waiting sender (their
  // sends then fail).
  ~Receiver() {
    if (!chan_) return;
    std::deque<T> unreceived;        // destroyed after the lock is released
    TakenWaker own_waker;            // ours: dropped unwoken, after unlocking
    std::vector<std::pair<std::uint64_t, Waker>> waiters;
    {
      std::lock_guard lock(chan_->mu);
      chan_->closed = true;
      unreceived.swap(chan_->queue);
      own_waker = chan_->recv_waker.take();
      waiters.swap(chan_->send_waiters);
    }
    detail::wake_all(std::move(waiters));
  }

  // Receiver::poll_next (Stream): Ready(v) for the next message,
  // Ready(nullopt) at the end of the stream, else Pending with cx's waker
  // stored.
  Poll<std::optional<T>> poll_next(Context& cx) {
    if (!chan_) return Ready(std::optional<T>());  // moved from: an ended stream
    std::vector<std::pair<std::uint64_t, Waker>> waiters;
    std::optional<T> out;
    {
      std::lock_guard lock(chan_->mu);
      if (chan_->queue.empty()) {
        if (chan_->senders == 0 || chan_->closed) return Ready(std::optional<T>());
        chan_->recv_waker.update(cx.waker());
        return Pending;
      }
      out.emplace(std::move(chan_->queue.front()));
      chan_->queue.pop_front();
      waiters.swap(chan_->send_waiters);  // room now: let waiting senders retry
    }
    detail::wake_all(std::move(waiters));
    return Ready(std::move(out));
  }

  // Receiver::next (StreamExt::next): a future of the next message, nullopt
  // at the end. It borrows the Receiver, which must outlive it.
  Next<T> next() { return Next<T>(*this); }

  // Receiver::try_next: never waits. Ok(v) for a queued message,
  // Ok(nullopt) at the end of the stream, Err(TryRecvError) if the queue is
  // empty but senders remain.
  Result<std::optional<T>, TryRecvError> try_next() {
    Context cx = Context::from_waker(Waker::noop());
    if (!chan_) return Ok(std::optional<T>());
    {
      std::lock_guard lock(chan_->mu);
      if (chan_->queue.empty() && chan_->senders != 0 && !chan_->closed) {
        return Err(TryRecvError{});
      }
    }
    // Not empty, or ended: poll_next answers Ready without storing a waker
    // (only this thread pops, so a message seen above is still there).
    return Ok(std::move(poll_next(cx)).value());
  }

  // Receiver::close: refuses new messages (sends fail and give the value
  // back) and wakes waiting senders; messages already queued can still be
  // received, then the stream ends.
  void close() {
    if (!chan_) return;
    std::vector<std::pair<std::uint64_t, Waker>> waiters;
    {
      std::lock_guard lock(chan_->mu);
      chan_->closed = true;
      waiters.swap(chan_->send_waiters);
    }
    detail::wake_all(std::move(waiters));
  }

 private:
  template <class U>
  friend std::pair<Sender<U>, Receiver<U>> channel(std::size_t);
  template <class U>
  friend std::pair<UnboundedSender<U>, Receiver<U>> unbounded();
  explicit Receiver(Arc<detail::Chan<T>> chan) : chan_(std::move(chan)) {}
  Arc<detail::Chan<T>> chan_;  // empty only when moved from
};

template <class T>
using UnboundedReceiver = Receiver<T>;

// Next<T>: the future of Receiver::next(). Polled after it returned Ready:
// throws FuturePolledAfterCompletion.
template <class T>
class Next {
 public:
  using Output = std::optional<T>;
  explicit Next(Receiver<T>& rx) : rx_(&rx) {}
  Poll<Output> poll(Context& cx) {
    if (done_) polled_after_completion("mpsc::Next");
    Poll<Output> p = rx_->poll_next(cx);
    done_ = p.is_ready();
    return p;
  }

 private:
  Receiver<T>* rx_;
  bool done_ = false;
};

// mpsc::channel<T>(buffer): a bounded channel holding at most `buffer`
// queued messages; buffer 0 throws std::invalid_argument.
template <class T>
std::pair<Sender<T>, Receiver<T>> channel(std::size_t buffer) {
  if (buffer == 0) throw std::invalid_argument("mpsc::channel: buffer must be at least 1");
  auto chan = Arc<detail::Chan<T>>::make(buffer);
  return {Sender<T>(detail::SenderHandle<T>(chan)), Receiver<T>(chan)};
}

// mpsc::unbounded<T>(): a channel with no limit on queued messages.
template <class T>
std::pair<UnboundedSender<T>, Receiver<T>> unbounded() {
  auto chan = Arc<detail::Chan<T>>::make(std::numeric_limits<std::size_t>::max());
  return {UnboundedSender<T>(detail::SenderHandle<T>(chan)), Receiver<T>(chan)};
}

}  // namespace mpsc
}  // namespace pollwake

#endif  // POLLWAKE_POLL_MPSC_H_
