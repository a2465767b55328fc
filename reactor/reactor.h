// reactor/reactor.h
//
// Models tokio's I/O driver (`tokio::runtime::io::Driver`, its `Handle`,
// `ScheduledIo` and `Registration`) over mio's `Poll`, and tokio's time
// driver (`tokio::time::sleep`) served from the same wait: the half of an
// async runtime that waits on the operating system and wakes the right
// Waker when a file descriptor is ready or a deadline passes.
//
//   Rust (tokio 1.x / mio 0.8)              pollwake
//   mio::Poll + mio::Events                 Reactor (owns the epoll fd)
//   mio::Waker (an eventfd on Linux)        Handle::unpark()
//   io::Driver::turn(max_wait)              Reactor::turn(max_wait)
//   runtime::Handle (the driver's handle)   Handle (copyable, any thread)
//   ScheduledIo (readiness + 2 wakers)      ScheduledIo
//   Registration::poll_ready/clear_readiness Registration::poll_ready/clear_readiness
//   mio::Interest::READABLE | WRITABLE      always both (see below)
//   tokio::time::sleep(d) / sleep_until(t)  sleep(handle, d) / sleep_until(handle, t)
//
// The reactor knows no executor: it holds Wakers and wakes them; whoever
// drives turn() (reactor/runtime.h joins it to LocalPool or ThreadPool)
// decides which thread waits in epoll_wait.
//
// Edge-triggered, with a readiness tick (what mio and tokio do). mio
// registers every source with EPOLLET: the kernel reports a change once, not
// "still readable" on every wait, so a busy socket costs no event per turn
// and one epoll_wait serves thousands of idle sockets cheaply. The price is
// that the reactor must remember readiness itself (the kernel will not say it
// again): tokio's ScheduledIo keeps the ready bits, sets them when an event
// arrives, and clears them only when an operation hits EAGAIN. The race that
// makes this subtle: a task reads readiness, does recv(), gets EAGAIN and
// clears the bit; if an event arrived between the recv() and the clear, the
// clear would erase it and the task would sleep forever on data that is
// there. So every event also increments a tick stored in the same word, the
// task remembers the tick it saw (ReadyEvent::tick), and clear_readiness
// clears only if the tick is unchanged (one compare-exchange). Level-
// triggered epoll would need no tick but reports a readable socket on every
// turn until it is drained, and a writable one all the time, so interest
// would have to be switched on and off with epoll_ctl syscalls per operation.
//
// Lifetimes (tokio's "pending release"): epoll hands back a raw ScheduledIo*.
// A socket may be dropped on one thread while the reactor, on another, is
// holding that pointer from the wait that just returned. So deregistration
// removes the fd from epoll and then parks the reactor's reference in a list
// that the reactor empties at the start of its next turn: by then no event
// from before the removal can be in flight, and the memory is freed.
//
// What the caller may rely on:
//   * Wakes are never lost: a poll_ready that returns Pending has stored the
//     waker so that any readiness set after its check wakes it (the
//     AtomicWaker protocol, poll/atomic_waker.h). One waker per direction:
//     one task may wait to read while another waits to write.
//   * turn() may be called by one thread at a time (a second thread that
//     calls it while one is inside gets std::logic_error, and the first
//     goes on undisturbed); register/deregister, unpark, sleep and
//     poll_ready from any thread.
//   * Dropping the Reactor while sockets are registered: every registered
//     ScheduledIo is marked shut down and both its wakers are woken; their
//     operations then return ErrorKind::kReactorGone. Every pending Sleep
//     completes at once (nothing could ever time it: documented, as tokio
//     documents its panic). Sockets may be dropped later on any thread.
//
// How pollwake differs, and why:
//   * mio registers only the interests asked for; pollwake always registers
//     read and write (and RDHUP) for a socket: with EPOLLET an interest that
//     is never waited for costs nothing, and one registration per socket
//     keeps the code short.
//   * tokio stores ScheduledIo in a slab and puts a generation in the epoll
//     token (and in the readiness word): a slot reused for a new socket
//     while the driver is about to apply an old event has a new generation,
//     and the event is dropped. pollwake's token is the ScheduledIo's
//     address, and the pending-release list keeps the object (so the
//     address cannot be reused) until a turn that starts after the fd left
//     epoll: no event can reach a newer registration, which is what the
//     generation buys, with less code. The other reuse, of the fd NUMBER by
//     the kernel, cannot happen to a tokio operation (a stream cannot be
//     dropped while an operation borrows it); pollwake's futures hold the
//     ScheduledIo, not the stream, so they are counted as its users and
//     the last user closes the fd (ScheduledIo::add_user): the same rule,
//     kept by a count instead of the borrow checker.
//   * Timers: tokio has a hierarchical timing wheel; pollwake a binary heap
//     under a mutex (a teaching simplification: O(log n) per timer).
#ifndef POLLWAKE_REACTOR_REACTOR_H_
#define POLLWAKE_REACTOR_REACTOR_H_

#include <sys/epoll.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "poll/arc.h"
#include "poll/atomic_waker.h"
#include "poll/context.h"
#include "poll/poll.h"
#include "reactor/io_error.h"

namespace pollwake::reactor {

using Clock = std::chrono::steady_clock;

// Readiness bits (tokio's `Ready`). A direction is ready if its edge bit,
// its closed bit, kError or kShutdown is set; clear_readiness (after EAGAIN)
// clears all but kShutdown for that direction.
enum : std::uint32_t {
  kReadable = 1,
  kWritable = 2,
  kReadClosed = 4,   // EPOLLRDHUP: the peer shut down its write side
  kWriteClosed = 8,  // EPOLLHUP: both sides are closed
  kError = 16,       // EPOLLERR: the next syscall will report it
  kShutdown = 32,    // the reactor is gone (not from epoll)
  kClosed = 64,      // the owner deregistered it: the fd number may be reused
};

enum class Direction { kRead, kWrite };

// What poll_ready saw: the ready bits for one direction, and the tick that
// clear_readiness must match (tokio's `ReadyEvent`).
struct ReadyEvent {
  std::uint32_t tick;
  std::uint32_t ready;
};

// ScheduledIo: the per-descriptor state the reactor and the tasks share.
// readiness_ packs the ready bits (low 16) and the tick (high 16) in one
// atomic word, so "set bits and bump tick" and "clear bits if tick
// unchanged" are each one atomic operation.
//
// Aligned to a cache line, with what every operation touches (the fd, the
// readiness word, the user count, the reader's waker) in its first 48 bytes:
// after each syscall the kernel's network stack has pushed most of the
// task's data out of the L1 cache, and an object that straddles two lines
// costs two misses on the way back.
class alignas(64) ScheduledIo {
 public:
  explicit ScheduledIo(int fd) : fd_(fd) {}
  ScheduledIo(const ScheduledIo&) = delete;
  ScheduledIo& operator=(const ScheduledIo&) = delete;

  int fd() const noexcept { return fd_; }

  // Reactor side: ORs `bits` in, bumps the tick, wakes the waiting
  // direction(s). Called by the thread in turn().
  void set_readiness(std::uint32_t bits);
  // Whether the owner has deregistered it (kClosed): its fd number may
  // already name another descriptor. Any thread.
  bool closed() const noexcept {
    // ORDERING: acquire, pairs with close()'s release.
    return (readiness_.load(std::memory_order_acquire) & kClosed) != 0;
  }
  // Reactor side: the reactor is being dropped.
  void shutdown();
  // Owner side: the descriptor is being deregistered (and then closed). Sets
  // kClosed and wakes both directions, so an operation still pending on it
  // (a future that outlived or was separated from its stream) completes
  // with kNotConnected instead of waiting forever or touching a reused fd.
  void close();

  // Users. The descriptor's number may be reused by the kernel as soon as
  // it is closed, and an operation on another thread may be between its
  // kClosed check and its syscall on fd() (a stream shared by tasks on a
  // pool): a close there would let that syscall reach whatever socket got
  // the number next. So the fd stays open while anyone may still make a
  // syscall on it: its owner (the Registration) and every operation future
  // made from it (each holds an IoRef, below) are its users, counted here,
  // and the fd is closed by whichever of them is last to go, after the
  // owner has let go. This is Rust's rule made into a count: there, a
  // future borrows its stream, so the stream (and its fd) cannot be
  // dropped while any operation on it exists. The count is also what keeps
  // this object alive for the futures: the users together hold one Arc
  // reference on it, taken at registration and dropped by the last user.
  //
  // add_user: one more user; the caller must be one already (the owner, or
  // an IoRef being copied). drop_user: one less; the last one out closes the
  // fd (if the owner asked for it) and drops the users' reference, which may
  // destroy *this.
  void add_user() noexcept {
    // ORDERING: relaxed, as Arc's increment: a user is only made by a user,
    // whose own later drop_user is ordered after this in the count's
    // modification order, so the count cannot reach zero in between.
    io_users_.fetch_add(1, std::memory_order_relaxed);
  }
  void drop_user() noexcept;
  // Owner side, once, at deregistration: drops the owner's use, and asks
  // the last user (this call, if no future is left) to close the fd when
  // `close_fd`. If futures are still alive the socket is shut down now
  // (shutdown(2): the peer sees the close, a listener stops listening and
  // resets its backlog; its port can be bound again by a socket that sets
  // SO_REUSEADDR, as TcpListener::bind does), and only the number stays
  // reserved until the last of them is dropped. An operation racing the
  // close on another thread reports kNotConnected, not what the shut-down
  // socket says (EOF, EINVAL). A socket shared with another process or
  // another descriptor (a dup, a fork, TcpStream::from_fd of a copy) is
  // shut down for all of them, as a close of the last descriptor would.
  void release_owner(bool close_fd) noexcept;

  // Task side: Ready with the current bits for `dir` (or kShutdown), else
  // stores cx's waker for `dir` and returns Pending.
  Poll<ReadyEvent> poll_ready(Context& cx, Direction dir);
  // Task side: an operation returned EAGAIN (would_block) or came back
  // short; clears `dir`'s ready bits (see the .cc for which) unless an event
  // arrived since `ev` was read.
  void clear_readiness(ReadyEvent ev, Direction dir, bool would_block = true);

 private:
  static constexpr std::uint32_t kReadMask =
      kReadable | kReadClosed | kError | kShutdown | kClosed;
  static constexpr std::uint32_t kWriteMask =
      kWritable | kWriteClosed | kError | kShutdown | kClosed;
  static constexpr std::uint32_t kBitsMask = 0xffff;
  static constexpr int kTickShift = 16;

  // io_users_: the number of users (low bits), kOwnerGone once the owner
  // has let go, kCloseFd if the last user must close the fd.
  static constexpr std::uint32_t kOwnerGone = 1u << 31;
  static constexpr std::uint32_t kCloseFd = 1u << 30;
  static constexpr std::uint32_t kUserMask = kCloseFd - 1;
  void last_user_gone(std::uint32_t flags) noexcept;

  const int fd_;
  std::atomic<std::uint32_t> readiness_{0};
  std::atomic<std::uint32_t> io_users_{1};  // the owner
  AtomicWaker reader_;
  AtomicWaker writer_;
};

// IoRef: what an operation future holds instead of a pointer to its
// stream: one user of the stream's ScheduledIo (see add_user). It keeps the
// ScheduledIo alive and its fd number reserved for as long as it lives, so
// the syscalls made through it need no guard of their own; the stream may
// move, or be closed (the operation then ends with kNotConnected at its
// next poll). Copying adds a user, moving transfers it; empty when made from
// an unregistered stream.
class IoRef {
 public:
  IoRef() = default;
  explicit IoRef(ScheduledIo* io) noexcept : io_(io) {
    if (io_ != nullptr) io_->add_user();
  }
  IoRef(const IoRef& other) noexcept : IoRef(other.io_) {}
  IoRef(IoRef&& other) noexcept : io_(std::exchange(other.io_, nullptr)) {}
  IoRef& operator=(IoRef other) noexcept {
    std::swap(io_, other.io_);
    return *this;
  }
  ~IoRef() {
    if (io_ != nullptr) io_->drop_user();
  }
  ScheduledIo* get() const noexcept { return io_; }
  ScheduledIo* operator->() const noexcept { return io_; }
  explicit operator bool() const noexcept { return io_ != nullptr; }

 private:
  ScheduledIo* io_ = nullptr;
};

class ReactorShared;

// Handle: what sockets and timers hold to reach their reactor (tokio's
// `runtime::Handle` for the I/O and time drivers). Copyable; usable from any
// thread; keeps the shared state (the epoll fd) alive, not the Reactor.
class Handle {
 public:
  Handle() = default;  // empty: unpark, register or sleep with it throws std::logic_error
  explicit Handle(Arc<ReactorShared> shared) : shared_(std::move(shared)) {}

  // Wakes the thread blocked in this reactor's turn(), or makes its next
  // turn() return at once (mio::Waker::wake: a write to an eventfd).
  void unpark() const;
  ReactorShared* get() const noexcept { return shared_.get(); }
  // get(), or std::logic_error naming `what` if the Handle is empty.
  ReactorShared& checked(const char* what) const;
  const Arc<ReactorShared>& shared() const noexcept { return shared_; }

 private:
  Arc<ReactorShared> shared_;
};

// Registration: one descriptor registered with a reactor (tokio's
// `Registration`). Move-only; its destructor deregisters (before the owner
// closes the fd, so a reused fd number is never confused with this one).
//
// An empty Registration (default-constructed, moved-from, or deregistered)
// has no ScheduledIo: poll_ready and clear_readiness on it throw
// std::logic_error naming the call, as an empty Handle does (in Rust the
// moved-from value could not be named at all; here it is a misuse with a
// defined outcome, not a null dereference).
class Registration {
 public:
  Registration() = default;
  static IoResult<Registration> add(const Handle& handle, int fd);
  Registration(Registration&& other) noexcept = default;
  Registration& operator=(Registration&& other) noexcept {
    if (this != &other) {
      deregister();
      handle_ = std::move(other.handle_);
      io_ = std::move(other.io_);
    }
    return *this;
  }
  ~Registration() { deregister(); }

  Poll<ReadyEvent> poll_ready(Context& cx, Direction dir) {
    return checked("Registration::poll_ready").poll_ready(cx, dir);
  }
  void clear_readiness(ReadyEvent ev, Direction dir, bool would_block = true) {
    checked("Registration::clear_readiness").clear_readiness(ev, dir, would_block);
  }
  // Removes the fd from epoll now (idempotent). The fd itself stays open:
  // the caller closes it (after the operation futures made from it are
  // gone, or they may reach a reused number: what deregister_and_close
  // spares its callers).
  void deregister() noexcept;
  // deregister(), and the fd is closed by the last of its users
  // (ScheduledIo::release_owner): at once if no operation future made from
  // it is alive, else when the last one is dropped (the socket is shut down
  // at once). What TcpStream::close and TcpListener::close do.
  void deregister_and_close() noexcept;
  bool registered() const noexcept { return static_cast<bool>(io_); }
  const Handle& handle() const noexcept { return handle_; }
  // A new user of the shared per-descriptor state, for an operation future
  // (empty if not registered). The future keeps working when the stream
  // that made it is moved, and sees kClosed when it is closed
  // (reactor/tcp.h).
  IoRef user() const noexcept { return IoRef(io_.get()); }

 private:
  ScheduledIo& checked(const char* what) const;
  void deregister(bool close_fd) noexcept;

  Handle handle_;
  Arc<ScheduledIo> io_;
};

// TimerEntry: one pending Sleep, shared by the Sleep and the reactor's heap.
struct TimerEntry {
  static constexpr std::uint8_t kWaiting = 0;
  static constexpr std::uint8_t kFired = 1;
  static constexpr std::uint8_t kCancelled = 2;
  explicit TimerEntry(Clock::time_point d) : deadline(d) {}
  const Clock::time_point deadline;
  std::atomic<std::uint8_t> state{kWaiting};
  AtomicWaker waker;
};

// ReactorShared: the state behind every Handle (tokio's driver Handle
// internals). Not used directly by callers.
class ReactorShared {
 public:
  ReactorShared(int epfd, int evfd) : epfd_(epfd), evfd_(evfd) {}
  ~ReactorShared();
  ReactorShared(const ReactorShared&) = delete;
  ReactorShared& operator=(const ReactorShared&) = delete;

 private:
  friend class Reactor;
  friend class Handle;
  friend class Registration;
  friend class Sleep;

  void add_timer(const Arc<TimerEntry>& entry);
  bool on_driver_thread() const noexcept;

  const int epfd_;
  const int evfd_;
  // std::mutex, not absl::Mutex: Debian's Abseil is built without
  // ThreadSanitizer, so TSan cannot see absl::Mutex's synchronization and
  // reports races between properly locked accesses; pthread mutexes it
  // intercepts.
  std::mutex mu_;
  bool shut_down_ = false;  // under mu_
  // Every registered ScheduledIo, keyed by address, holding the reactor's
  // reference until deregistration moves it to pending_release_.
  std::unordered_map<const ScheduledIo*, Arc<ScheduledIo>> registered_;  // under mu_
  std::vector<Arc<ScheduledIo>> pending_release_;  // under mu_
  std::atomic<bool> has_pending_release_{false};

  struct HeapItem {
    Clock::time_point deadline;
    std::uint64_t seq;  // FIFO among equal deadlines
    Arc<TimerEntry> entry;
  };
  std::mutex timer_mu_;
  std::vector<HeapItem> timers_;  // under timer_mu_: a min-heap on (deadline, seq)
  std::uint64_t timer_seq_ = 0;  // under timer_mu_
  bool timers_shut_down_ = false;  // under timer_mu_
  // Cancelled entries leave the heap lazily (when they reach the front), so
  // a heap of long sleeps dropped early (per-request timeouts) would grow
  // without bound; add_timer sweeps them out when the heap reaches this
  // size, then doubles it from what is left (amortized O(1) per timer).
  std::size_t sweep_at_ = kMinSweep;  // under timer_mu_
  static constexpr std::size_t kMinSweep = 64;
  // The thread inside turn() (or that last was): a timer added on it needs
  // no unpark, the next turn sees it anyway.
  std::atomic<std::thread::id> driver_{};
};

// Reactor: owns the epoll instance and drives it (tokio's I/O + time driver).
// Not movable (Handles point at its shared state, not at it, but turn() must
// stay with one owner). Destroying it: see the header comment.
class Reactor {
 public:
  // Creates the epoll fd and the eventfd; throws std::system_error if the
  // kernel refuses (e.g. EMFILE): without them nothing else can work.
  Reactor();
  ~Reactor();
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  Handle handle() const { return Handle(shared_); }

  // Waits for readiness events, an unpark, or the nearest timer, at most
  // `max_wait` (nullopt: no limit; zero: do not block), then wakes the
  // wakers of every ready descriptor and every expired timer. Returns the
  // number of descriptor events handled (unparks not counted). A signal
  // (EINTR) is Ok(0): the caller turns again. Any other epoll_wait failure
  // (EBADF, EFAULT, EINVAL: the epoll fd or the event buffer is broken, a
  // bug, not a condition that passes) comes back as the error, with no
  // timer fired; tokio panics there ("unexpected error when polling the I/O
  // driver"), and the runtimes (runtime.h) do the equivalent.
  IoResult<int> turn(std::optional<Clock::duration> max_wait);

  // How many turns were asked not to block (max_wait zero) and how many
  // could block (for tests of a runtime's policy: when it sleeps, not how
  // long). Any thread may read them.
  struct TurnCounts {
    std::uint64_t nonblocking = 0;
    std::uint64_t may_block = 0;
  };
  TurnCounts turn_counts() const noexcept;

  // An observer of what turn() delivers: called on the turning thread, for
  // each descriptor event, with the descriptor and its readiness bits,
  // before the wakers are woken; not for a descriptor its owner has already
  // closed (its number may name another one by now; one closed on another
  // thread at that very moment may still be reported under its old
  // number). The reactor knows no executor; the piece that joins it to one
  // (runtime.h) sets this to feed the recorder's readiness events
  // (executor/record/), and owns the slot: a runtime's reactor() is not the
  // place to set another. Change it only while no turn runs; {} removes it.
  struct ReadinessObserver {
    void (*on_ready)(void* ctx, int fd, std::uint32_t bits) = nullptr;
    void* ctx = nullptr;
  };
  void set_readiness_observer(ReadinessObserver observer) noexcept { observer_ = observer; }

  // Number of descriptors registered now (for tests: nothing leaks).
  std::size_t registered_count() const;
  // Number of entries in the timer heap, cancelled ones not yet swept
  // included (for tests: dropped sleeps do not pile up).
  std::size_t timer_count() const;

 private:
  void release_pending();
  void fire_timers();
  std::optional<Clock::time_point> next_deadline();

  Arc<ReactorShared> shared_;
  std::vector<epoll_event> events_;  // owned by the thread inside turn()
  std::atomic<bool> in_turn_{false};
  std::atomic<std::uint64_t> nonblocking_turns_{0};
  std::atomic<std::uint64_t> may_block_turns_{0};
  ReadinessObserver observer_;  // read by the thread inside turn()
};

// Sleep: completes when its deadline has passed (tokio::time::Sleep), fired
// by the reactor's turn(). Inert until polled: the timer is armed by the
// first poll. Dropping it cancels it. If the reactor is dropped first, it
// completes at once (see the header comment).
class Sleep {
 public:
  using Output = Unit;
  Sleep(Handle handle, Clock::time_point deadline)
      : handle_(std::move(handle)), deadline_(deadline) {}
  Sleep(Sleep&& other) noexcept = default;
  Sleep& operator=(Sleep&&) = delete;
  ~Sleep();

  Poll<Unit> poll(Context& cx);
  Clock::time_point deadline() const noexcept { return deadline_; }

 private:
  Handle handle_;
  Clock::time_point deadline_;
  Arc<TimerEntry> entry_;
  bool done_ = false;
};

inline Sleep sleep_until(const Handle& handle, Clock::time_point deadline) {
  return Sleep(handle, deadline);
}
inline Sleep sleep(const Handle& handle, Clock::duration d) {
  return Sleep(handle, Clock::now() + d);
}

}  // namespace pollwake::reactor

#endif  // POLLWAKE_REACTOR_REACTOR_H_
