// poll/oneshot.h
//
// Models `futures::channel::oneshot`: a channel for exactly one value, from
// one Sender to one Receiver, usually on different threads.
//
//   Rust                                  pollwake
//   oneshot::channel::<T>()               oneshot::channel<T>()
//                                           -> std::pair<Sender<T>, Receiver<T>>
//   tx.send(v) -> Result<(), T>           tx.send(v) -> Result<Unit, T>
//   tx.is_canceled()                      same
//   tx.poll_canceled(cx) / cancellation() same (cancellation() borrows tx)
//   rx.await -> Result<T, Canceled>       Receiver<T> is a future of Result<T, Canceled>
//   rx.close() / rx.try_recv()            same; try_recv -> Result<std::optional<T>, Canceled>
//   drop(tx) without sending              the receiver gets Err(Canceled)
//   drop(rx)                              a later send returns Err(v), giving v back
//
// What each side may rely on:
//   * send(v) succeeds (Ok) unless the receiver was dropped or closed first;
//     then it returns Err(v) and the value comes back to the caller. If the
//     receiver is dropped just after a successful send, the value is
//     destroyed with the channel (Rust does the same).
//   * The receiver yields Ok(v) after a send, Err(Canceled) once the sender
//     is gone without sending (or after close() with no value).
//   * All methods may be called from any thread; the sender and receiver
//     may live on different threads. Wakers are woken after the lock is
//     released, so a waker that re-enters the channel cannot deadlock.
//
// How pollwake differs, and why: Rust's `send(self, v)` consumes the sender,
// so a second send does not compile. C++ cannot consume an lvalue, so
// send() leaves the Sender spent (as if moved from): is_canceled() is true
// afterwards and a second send() returns Err(v). Likewise a moved-from
// Sender or Receiver is empty: send returns Err(v), polling a moved-from
// receiver throws FuturePolledAfterCompletion. A Receiver that returned
// Ready is finished: polling it again throws FuturePolledAfterCompletion
// (Rust's Receiver would panic on a second poll too).
//
// The state is guarded by a plain std::mutex, not a lock-free state machine,
// because every critical section is a handful of loads and stores and never
// waits for anything (futures-rs uses an atomic flag and two try-locks to
// reach the same result without blocking; AtomicWaker in poll/atomic_waker.h
// shows that style). Memory ordering: the mutex orders everything; the value
// written by send() under the lock is visible to the receiver that finds it
// under the lock.
//
// Its promises, and the tests that check them, are written once in
// docs/guarantees.md ("AtomicWaker and channels").
#ifndef POLLWAKE_POLL_ONESHOT_H_
#define POLLWAKE_POLL_ONESHOT_H_

#include <mutex>
#include <optional>
#include <utility>

#include "poll/arc.h"
#include "poll/context.h"
#include "poll/latest_waker.h"
#include "poll/poll.h"
#include "poll/result.h"
#include "poll/waker.h"

namespace pollwake {
namespace oneshot {

// Canceled: the error a Receiver yields when the Sender went away without
// sending (Rust: `futures::channel::oneshot::Canceled`).
struct Canceled {
  friend constexpr bool operator==(Canceled, Canceled) noexcept { return true; }
};

namespace detail {

template <class T>
struct Inner {
  std::mutex mu;
  std::optional<T> data;              // written under mu: the value in flight
  bool sender_done = false;           // written under mu: sent, or sender dropped
  bool receiver_closed = false;       // written under mu: close() or receiver dropped
  LatestWaker rx_waker;               // written under mu: the receiver's task
  LatestWaker tx_waker;               // written under mu: poll_canceled's task
};

}  // namespace detail

template <class T>
class Sender;
template <class T>
class Receiver;

template <class T>
std::pair<Sender<T>, Receiver<T>> channel();

template <class T>
class Sender {
 public:
  Sender(Sender&&) noexcept = default;
  Sender& operator=(Sender&& other) noexcept {
    if (this != &other) {
      Sender old(std::move(*this));  // the old channel (if any) is canceled
      inner_ = std::move(other.inner_);
    }
    return *this;
  }
  Sender(const Sender&) = delete;  // one sender per channel
  Sender& operator=(const Sender&) = delete;

  // Dropping an unused Sender cancels the channel: the receiver wakes and
  // gets Err(Canceled).
  ~Sender() { finish(); }

  // Sender::send: hands `value` to the receiver and wakes it. Returns
  // Err(value) if the receiver was dropped or closed, or if this Sender was
  // already used (Rust's send consumes the Sender). Either way the Sender is
  // spent afterwards.
  Result<Unit, T> send(T value) {
    if (!inner_) return Err(std::move(value));
    Arc<detail::Inner<T>> inner = std::move(inner_);  // spent from here on
    bool refused;
    TakenWaker to_wake;
    {
      std::lock_guard lock(inner->mu);
      refused = inner->receiver_closed;
      if (!refused) inner->data.emplace(std::move(value));
      inner->sender_done = true;
      to_wake = inner->rx_waker.take();
    }
    std::move(to_wake).wake();
    if (refused) return Err(std::move(value));  // the receiver was gone: give it back
    return Ok(Unit{});
  }

  // Sender::is_canceled: true once the receiver has been dropped or closed
  // (a send would fail), or this Sender is spent. A snapshot: false may turn
  // true at any moment.
  bool is_canceled() const {
    if (!inner_) return true;
    std::lock_guard lock(inner_->mu);
    return inner_->receiver_closed;
  }

  // Sender::poll_canceled: Ready once the receiver is dropped or closed;
  // otherwise stores cx's waker and returns Pending. A spent Sender is Ready.
  Poll<Unit> poll_canceled(Context& cx) {
    if (!inner_) return Ready();
    std::lock_guard lock(inner_->mu);
    if (inner_->receiver_closed) return Ready();
    inner_->tx_waker.update(cx.waker());
    return Pending;
  }

  // Cancellation: the future behind cancellation(); borrows the Sender,
  // which must outlive it (Rust: `Cancellation<'a, T>` borrows `&mut self`).
  class Cancellation {
   public:
    using Output = Unit;
    explicit Cancellation(Sender& tx) : tx_(&tx) {}
    Poll<Unit> poll(Context& cx) {
      if (done_) polled_after_completion("oneshot::Cancellation");
      Poll<Unit> p = tx_->poll_canceled(cx);
      done_ = p.is_ready();
      return p;
    }

   private:
    Sender* tx_;
    bool done_ = false;
  };
  // Sender::cancellation: a future that completes when the receiver is gone.
  Cancellation cancellation() { return Cancellation(*this); }

 private:
  friend std::pair<Sender<T>, Receiver<T>> channel<T>();
  explicit Sender(Arc<detail::Inner<T>> inner) : inner_(std::move(inner)) {}

  void finish() {
    if (!inner_) return;
    TakenWaker to_wake;
    {
      std::lock_guard lock(inner_->mu);
      inner_->sender_done = true;  // the receiver now resolves to Canceled
      to_wake = inner_->rx_waker.take();
    }
    Arc<detail::Inner<T>> release = std::move(inner_);  // spent: inner_ is empty
    std::move(to_wake).wake();
  }

  Arc<detail::Inner<T>> inner_;  // empty once spent or moved from
};

template <class T>
class Receiver {
 public:
  using Output = Result<T, Canceled>;

  Receiver(Receiver&& other) noexcept
      : inner_(std::move(other.inner_)), done_(std::exchange(other.done_, true)) {}
  Receiver& operator=(Receiver&& other) noexcept {
    if (this != &other) {
      Receiver old(std::move(*this));
      inner_ = std::move(other.inner_);
      done_ = std::exchange(other.done_, true);
    }
    return *this;
  }
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  // Dropping the Receiver closes the channel, wakes a sender waiting in
  // poll_canceled, destroys a value that was sent but never received, and
  // releases its own stored waker.
  ~Receiver() {
    if (!inner_) return;
    std::optional<T> unreceived;        // destroyed after the lock is released
    TakenWaker own_waker;               // ours: dropped unwoken, after unlocking
    TakenWaker to_wake;
    {
      std::lock_guard lock(inner_->mu);
      inner_->receiver_closed = true;
      // Moved by construction, not assignment: like Rust, the channel asks
      // of T only that it can be moved (no move assignment).
      if (inner_->data) {
        unreceived.emplace(std::move(*inner_->data));
        inner_->data.reset();
      }
      own_waker = inner_->rx_waker.take();
      to_wake = inner_->tx_waker.take();
    }
    std::move(to_wake).wake();
  }

  // Receiver::poll: Ready(Ok(v)) once a value is here, Ready(Err(Canceled))
  // once the sender is gone without one (or close() was called and nothing
  // came), else Pending with cx's waker stored.
  Poll<Output> poll(Context& cx) {
    if (done_) polled_after_completion("oneshot::Receiver");
    std::lock_guard lock(inner_->mu);
    if (inner_->data) {
      done_ = true;
      Output out = Ok(std::move(*inner_->data));
      inner_->data.reset();
      return Ready(std::move(out));
    }
    if (inner_->sender_done || inner_->receiver_closed) {
      done_ = true;
      return Ready(Output(Err(Canceled{})));
    }
    inner_->rx_waker.update(cx.waker());
    return Pending;
  }

  // Receiver::close: refuses any later send (it returns Err(v)) and wakes a
  // sender waiting in poll_canceled. A value sent before close() can still
  // be received, by polling or by try_recv.
  void close() {
    if (!inner_) return;
    TakenWaker to_wake;
    {
      std::lock_guard lock(inner_->mu);
      inner_->receiver_closed = true;
      to_wake = inner_->tx_waker.take();
    }
    std::move(to_wake).wake();
  }

  // Receiver::try_recv: never waits. Ok(v) if a value is here (the receiver
  // is then finished, as after a Ready poll), Ok(nullopt) if none has been
  // sent yet, Err(Canceled) if none will come (sender gone, or closed, or the
  // value was already received).
  Result<std::optional<T>, Canceled> try_recv() {
    if (!inner_) return Err(Canceled{});
    std::lock_guard lock(inner_->mu);
    if (inner_->data) {
      done_ = true;
      std::optional<T> out = std::move(inner_->data);
      inner_->data.reset();
      return Ok(std::move(out));
    }
    if (done_ || inner_->sender_done || inner_->receiver_closed) return Err(Canceled{});
    return Ok(std::optional<T>());
  }

 private:
  friend std::pair<Sender<T>, Receiver<T>> channel<T>();
  explicit Receiver(Arc<detail::Inner<T>> inner) : inner_(std::move(inner)) {}

  Arc<detail::Inner<T>> inner_;  // empty only when moved from
  bool done_ = false;            // true once Ready was returned (or moved from)
};

// oneshot::channel<T>(): a connected Sender and Receiver.
template <class T>
std::pair<Sender<T>, Receiver<T>> channel() {
  auto inner = Arc<detail::Inner<T>>::make();
  return {Sender<T>(inner), Receiver<T>(inner)};
}

}  // namespace oneshot
}  // namespace pollwake

#endif  // POLLWAKE_POLL_ONESHOT_H_
