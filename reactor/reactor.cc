// reactor/reactor.cc: the epoll driver. See reactor.h for the model.
#include "reactor/reactor.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

namespace pollwake::reactor {

namespace {

// The epoll token of the eventfd (a ScheduledIo is never at this address).
char g_unpark_token;

// What epoll says, in readiness bits. EPOLLHUP closes both directions;
// EPOLLERR makes both directions try their syscall, which reports the error.
std::uint32_t bits_of(std::uint32_t ev) {
  std::uint32_t b = 0;
  if (ev & EPOLLIN) b |= kReadable;
  if (ev & EPOLLOUT) b |= kWritable;
  if (ev & EPOLLRDHUP) b |= kReadable | kReadClosed;
  if (ev & EPOLLHUP) b |= kReadable | kWritable | kReadClosed | kWriteClosed;
  if (ev & EPOLLERR) b |= kReadable | kWritable | kError;
  return b;
}

bool heap_later(const auto& a, const auto& b) {  // std heaps are max-heaps
  return a.deadline != b.deadline ? a.deadline > b.deadline : a.seq > b.seq;
}

}  // namespace

// ---------------------------------------------------------------- ScheduledIo

void ScheduledIo::set_readiness(std::uint32_t bits) {
  std::uint32_t cur = readiness_.load(std::memory_order_relaxed);
  std::uint32_t next;
  do {
    std::uint32_t tick = ((cur >> kTickShift) + 1) & 0xffff;
    next = (tick << kTickShift) | (cur & kBitsMask) | bits;
    // ORDERING: release, so a task that reads these bits (acquire, in
    // poll_ready) sees what the kernel event stands for; the wake below then
    // goes through the AtomicWaker, whose acq_rel RMW on its state is ordered
    // after this store (sequenced before it), which is what makes
    // "register, then re-check" in poll_ready lose no wake.
  } while (!readiness_.compare_exchange_weak(cur, next, std::memory_order_release,
                                             std::memory_order_relaxed));
  // [START wake_on_change]
  // Wake a direction only if this event sets one of its bits that was
  // clear. If they were all set already, no operation of that direction can
  // be waiting: it would have seen them (poll_ready is Ready while any is
  // set), and the event that set them last also woke whoever registered
  // before it. `cur` is the value our CAS replaced, the latest one, so a
  // clear_readiness cannot slip between what we compare and what we store.
  // Under an echo load each event is readable+writable while the socket's
  // write bit is still set from the last one: this skips the writer's
  // AtomicWaker (two atomic read-modify-writes) on every event.
  const std::uint32_t added = bits & ~cur;
  if (added & kReadMask) reader_.wake();
  if (added & kWriteMask) writer_.wake();
  // [END wake_on_change]
}

void ScheduledIo::shutdown() {
  // ORDERING: release, as in set_readiness: the bit is the condition the
  // woken task re-checks.
  readiness_.fetch_or(kShutdown, std::memory_order_release);
  reader_.wake();
  writer_.wake();
}

void ScheduledIo::close() {
  // ORDERING: release, as in set_readiness: the bit is the condition the
  // woken task re-checks, and it must be visible before the fd is closed.
  readiness_.fetch_or(kClosed, std::memory_order_release);
  reader_.wake();
  writer_.wake();
}

// [START fd_guard]
void ScheduledIo::drop_user() noexcept {
  // ORDERING: acq_rel, as Arc's decrement: release orders this user's
  // syscalls on fd_ before the close the last user makes; acquire, in the
  // last one, orders its close after every other user's syscalls.
  const std::uint32_t prev = io_users_.fetch_sub(1, std::memory_order_acq_rel);
  // The owner's use goes only with kOwnerGone, in the same operation: a
  // count of zero always has it.
  if ((prev & kUserMask) == 1) last_user_gone(prev);
}

void ScheduledIo::release_owner(bool close_fd) noexcept {
  // Futures are alive: the number stays reserved until the last of them
  // goes, but the socket closes now (the peer sees it, a listener stops
  // listening). Done while the owner's use is still counted, so the fd is
  // certainly still ours: once that use is given up below, the last future
  // may close it on another thread and the number may name a new socket.
  // ORDERING: relaxed. It cannot read 1 while a future exists: every
  // future's increment was made by this owner or copied from another
  // future, ordered before that future's own decrement. It can read more
  // than 1 just after the last future went: then the shutdown is an extra
  // one on a descriptor that is still ours, closed below. errno is kept:
  // this runs in noexcept close paths (ENOTSOCK for a descriptor that is not
  // a socket).
  if (close_fd && (io_users_.load(std::memory_order_relaxed) & kUserMask) > 1) {
    const int saved = errno;
    ::shutdown(fd_, SHUT_RDWR);
    errno = saved;
  }
  const std::uint32_t flags = kOwnerGone | (close_fd ? kCloseFd : 0);
  // Drop the owner's use and set the flags in one step (neither flag was
  // set, and the owner's use is counted: no carry, no borrow), so the last
  // user, whoever it is, sees them. ORDERING: acq_rel, as in drop_user.
  const std::uint32_t prev = io_users_.fetch_add(flags - 1, std::memory_order_acq_rel);
  if ((prev & kUserMask) == 1) last_user_gone(flags);
}

void ScheduledIo::last_user_gone(std::uint32_t flags) noexcept {
  if (flags & kCloseFd) {
    const int saved = errno;  // this runs in destructors
    ::close(fd_);
    errno = saved;
  }
  // The users' reference (Registration::add): may destroy *this.
  Arc<ScheduledIo>::decrement_strong_count(this);
}
// [END fd_guard]

// [START poll_ready]
Poll<ReadyEvent> ScheduledIo::poll_ready(Context& cx, Direction dir) {
  const std::uint32_t mask = dir == Direction::kRead ? kReadMask : kWriteMask;
  AtomicWaker& slot = dir == Direction::kRead ? reader_ : writer_;
  // ORDERING: acquire, pairs with the release in set_readiness/shutdown.
  std::uint32_t cur = readiness_.load(std::memory_order_acquire);
  if ((cur & mask) == 0) {
    slot.register_waker(cx.waker());
    // Checked again AFTER registering (the AtomicWaker rule): an event set
    // between the first load and the register found no waker to wake, but
    // is visible here. ORDERING: acquire, as above; register_waker's RMWs on
    // the slot's state order this load after any take() that missed us.
    cur = readiness_.load(std::memory_order_acquire);
    if ((cur & mask) == 0) return Pending;
  }
  return Ready(ReadyEvent{cur >> kTickShift, cur & mask});
}
// [END poll_ready]

// [START clear_readiness]
void ScheduledIo::clear_readiness(ReadyEvent ev, Direction dir, bool would_block) {
  // After EAGAIN the direction is provably open and error-free right now,
  // so the closed and error bits go too (a stale one would make every
  // poll_ready Ready and the operation spin on EAGAIN). After a short read
  // or write only the edge bit goes: a FIN that came with the last bytes
  // must stay visible, or the next read would wait for an edge that never
  // comes.
  const std::uint32_t edge = dir == Direction::kRead ? kReadable : kWritable;
  const std::uint32_t clear =
      would_block ? edge | kError | (dir == Direction::kRead ? kReadClosed : kWriteClosed) : edge;
  // ORDERING: relaxed; the CAS only decides whether to clear. Its atomicity
  // is the point: a set_readiness between our load and our CAS changes the
  // tick, the CAS fails, and we re-check the tick instead of erasing it.
  std::uint32_t cur = readiness_.load(std::memory_order_relaxed);
  for (;;) {
    if ((cur >> kTickShift) != ev.tick) return;  // a newer event: keep it
    std::uint32_t next = cur & ~clear;
    if (readiness_.compare_exchange_weak(cur, next, std::memory_order_relaxed,
                                         std::memory_order_relaxed)) {
      return;
    }
  }
}
// [END clear_readiness]

// --------------------------------------------------------------------- Handle

ReactorShared& Handle::checked(const char* what) const {
  if (!shared_) throw std::logic_error(std::string(what) + ": empty reactor Handle");
  return *shared_;
}

void Handle::unpark() const {
  std::uint64_t one = 1;
  // A full counter (EAGAIN) already means "wake up": nothing is lost.
  ssize_t n = ::write(checked("Handle::unpark").evfd_, &one, sizeof one);
  (void)n;
}

// ------------------------------------------------------------- ReactorShared

ReactorShared::~ReactorShared() {
  ::close(epfd_);
  ::close(evfd_);
}

bool ReactorShared::on_driver_thread() const noexcept {
  // ORDERING: relaxed; a stale answer only costs (or saves) one unpark of a
  // thread that is about to recompute its timeout anyway: the driver stores
  // its id before it reads the timer heap under timer_mu_.
  return driver_.load(std::memory_order_relaxed) == std::this_thread::get_id();
}

void ReactorShared::add_timer(const Arc<TimerEntry>& entry) {
  bool earliest;
  {
    std::lock_guard<std::mutex> lock(timer_mu_);
    if (timers_shut_down_) {
      // ORDERING: release; the Sleep's own poll reads it with acquire.
      entry->state.store(TimerEntry::kFired, std::memory_order_release);
      return;
    }
    auto later = [](const HeapItem& a, const HeapItem& b) { return heap_later(a, b); };
    timers_.push_back(HeapItem{entry->deadline, timer_seq_++, entry});
    std::push_heap(timers_.begin(), timers_.end(), later);
    if (timers_.size() >= sweep_at_) {
      // ORDERING: relaxed; a cancellation missed here is swept next time.
      std::erase_if(timers_, [](const HeapItem& h) {
        return h.entry->state.load(std::memory_order_relaxed) == TimerEntry::kCancelled;
      });
      std::make_heap(timers_.begin(), timers_.end(), later);
      sweep_at_ = std::max(kMinSweep, 2 * timers_.size());
    }
    earliest = timers_.front().entry.get() == entry.get();
  }
  // A new earliest deadline from another thread: the driver may be asleep
  // with a longer timeout, so wake it to recompute.
  if (earliest && !on_driver_thread()) {
    std::uint64_t one = 1;
    ssize_t n = ::write(evfd_, &one, sizeof one);
    (void)n;
  }
}

// --------------------------------------------------------------- Registration

IoResult<Registration> Registration::add(const Handle& handle, int fd) {
  ReactorShared* s = &handle.checked("Registration::add");
  Arc<ScheduledIo> io = Arc<ScheduledIo>::make(fd);
  {
    std::lock_guard<std::mutex> lock(s->mu_);
    if (s->shut_down_) return Err(IoError::reactor_gone());
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    // SAFETY: the pointer stays valid while epoll may return it: the
    // reactor's reference (registered_, then pending_release_) is dropped
    // only at a turn that starts after the fd left epoll.
    ev.data.ptr = const_cast<ScheduledIo*>(io.get());
    if (::epoll_ctl(s->epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      return Err(IoError::last_os_error());
    }
    s->registered_.emplace(io.get(), io);
  }
  // The users' reference (ScheduledIo::add_user): dropped by the last user.
  Arc<ScheduledIo>::increment_strong_count(io.get());
  Registration r;
  r.handle_ = handle;
  r.io_ = std::move(io);
  return Ok(std::move(r));
}

ScheduledIo& Registration::checked(const char* what) const {
  if (!io_) {
    throw std::logic_error(std::string(what) +
                           ": empty Registration (moved-from, deregistered or never added)");
  }
  return *io_;
}

void Registration::deregister() noexcept { deregister(/*close_fd=*/false); }

void Registration::deregister_and_close() noexcept { deregister(/*close_fd=*/true); }

void Registration::deregister(bool close_fd) noexcept {
  if (!io_) return;
  io_->close();  // pending operations end with kNotConnected
  ReactorShared* s = handle_.get();
  {
    std::lock_guard<std::mutex> lock(s->mu_);
    auto it = s->registered_.find(io_.get());
    if (it != s->registered_.end()) {  // else the reactor was dropped and let go of it
      const int saved = errno;  // this runs in destructors
      ::epoll_ctl(s->epfd_, EPOLL_CTL_DEL, io_->fd(), nullptr);
      errno = saved;
      s->pending_release_.push_back(std::move(it->second));
      s->registered_.erase(it);
      // ORDERING: release, pairs with the driver's acquire exchange; the
      // list itself is guarded by mu_.
      s->has_pending_release_.store(true, std::memory_order_release);
    }
  }
  // After the fd has left epoll: its last user may close it now.
  io_->release_owner(close_fd);
  io_ = Arc<ScheduledIo>();
  handle_ = Handle();
}

// -------------------------------------------------------------------- Reactor

Reactor::Reactor() : events_(1024) {
  int epfd = ::epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  int evfd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (evfd < 0) {
    int e = errno;
    ::close(epfd);
    throw std::system_error(e, std::generic_category(), "eventfd");
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLET;
  ev.data.ptr = &g_unpark_token;
  if (::epoll_ctl(epfd, EPOLL_CTL_ADD, evfd, &ev) != 0) {
    int e = errno;
    ::close(epfd);
    ::close(evfd);
    throw std::system_error(e, std::generic_category(), "epoll_ctl(eventfd)");
  }
  shared_ = Arc<ReactorShared>::make(epfd, evfd);
}

Reactor::~Reactor() {
  std::unordered_map<const ScheduledIo*, Arc<ScheduledIo>> live;
  std::vector<Arc<ScheduledIo>> pending;
  {
    std::lock_guard<std::mutex> lock(shared_->mu_);
    shared_->shut_down_ = true;
    live.swap(shared_->registered_);
    pending.swap(shared_->pending_release_);
    for (auto& [io, arc] : live) ::epoll_ctl(shared_->epfd_, EPOLL_CTL_DEL, io->fd(), nullptr);
  }
  // Outside the lock: a wake may run executor code.
  for (auto& [io, arc] : live) arc->shutdown();
  std::vector<ReactorShared::HeapItem> timers;
  {
    std::lock_guard<std::mutex> lock(shared_->timer_mu_);
    shared_->timers_shut_down_ = true;
    timers.swap(shared_->timers_);
  }
  for (auto& t : timers) {
    // ORDERING: release; the Sleep's poll reads it with acquire.
    t.entry->state.store(TimerEntry::kFired, std::memory_order_release);
    t.entry->waker.wake();
  }
}

std::size_t Reactor::registered_count() const {
  std::lock_guard<std::mutex> lock(shared_->mu_);
  return shared_->registered_.size();
}

void Reactor::release_pending() {
  // ORDERING: acquire, pairs with deregister's release store.
  if (!shared_->has_pending_release_.exchange(false, std::memory_order_acquire)) return;
  std::vector<Arc<ScheduledIo>> dead;
  {
    std::lock_guard<std::mutex> lock(shared_->mu_);
    dead.swap(shared_->pending_release_);
  }
}  // `dead` is freed here, outside the lock

std::size_t Reactor::timer_count() const {
  std::lock_guard<std::mutex> lock(shared_->timer_mu_);
  return shared_->timers_.size();
}

std::optional<Clock::time_point> Reactor::next_deadline() {
  std::lock_guard<std::mutex> lock(shared_->timer_mu_);
  auto& heap = shared_->timers_;
  auto later = [](const ReactorShared::HeapItem& a, const ReactorShared::HeapItem& b) { return heap_later(a, b); };
  // Cancelled entries are dropped lazily, here.
  // ORDERING: relaxed; a cancellation missed here only costs an early wake.
  while (!heap.empty() &&
         heap.front().entry->state.load(std::memory_order_relaxed) == TimerEntry::kCancelled) {
    std::pop_heap(heap.begin(), heap.end(), later);
    heap.pop_back();
  }
  if (heap.empty()) return std::nullopt;
  return heap.front().deadline;
}

void Reactor::fire_timers() {
  std::vector<Arc<TimerEntry>> due;
  {
    std::lock_guard<std::mutex> lock(shared_->timer_mu_);
    auto& heap = shared_->timers_;
    if (heap.empty()) return;  // the common case for a busy server: no clock read
    Clock::time_point now = Clock::now();
    auto later = [](const ReactorShared::HeapItem& a, const ReactorShared::HeapItem& b) { return heap_later(a, b); };
    while (!heap.empty() && heap.front().deadline <= now) {
      std::pop_heap(heap.begin(), heap.end(), later);
      due.push_back(std::move(heap.back().entry));
      heap.pop_back();
    }
  }
  for (auto& e : due) {
    std::uint8_t waiting = TimerEntry::kWaiting;
    // ORDERING: release on success, pairs with Sleep::poll's acquire load;
    // the wake after it follows the AtomicWaker rule.
    if (e->state.compare_exchange_strong(waiting, TimerEntry::kFired, std::memory_order_release,
                                         std::memory_order_relaxed)) {
      e->waker.wake();
    }
  }
}

Reactor::TurnCounts Reactor::turn_counts() const noexcept {
  // ORDERING: relaxed; counters for tests, read after the turns they count
  // (on the driver's thread, or after joining it).
  return TurnCounts{nonblocking_turns_.load(std::memory_order_relaxed),
                    may_block_turns_.load(std::memory_order_relaxed)};
}

// [START turn]
IoResult<int> Reactor::turn(std::optional<Clock::duration> max_wait) {
  // ORDERING: acquire, pairs with the release below: a turn on another
  // thread that follows this one sees what this one did to events_ and the
  // pending-release protocol (which assumes one driver at a time).
  if (in_turn_.exchange(true, std::memory_order_acquire)) {
    throw std::logic_error("Reactor::turn: called from two threads at once");
  }
  struct Leave {
    std::atomic<bool>& flag;
    // ORDERING: release, see above.
    ~Leave() { flag.store(false, std::memory_order_release); }
  } leave{in_turn_};
  ReactorShared& s = *shared_;
  // ORDERING: relaxed; see ReactorShared::on_driver_thread.
  s.driver_.store(std::this_thread::get_id(), std::memory_order_relaxed);
  release_pending();  // no event from before their deregistration is left

  // The timeout: the nearest deadline, capped by max_wait; in whole
  // milliseconds, rounded up (epoll_wait's unit), so we never wake early.
  int timeout_ms = -1;
  std::optional<Clock::time_point> deadline = next_deadline();
  const bool nonblocking = max_wait && *max_wait <= Clock::duration::zero();
  // ORDERING: relaxed; see turn_counts. Only this thread writes them.
  (nonblocking ? nonblocking_turns_ : may_block_turns_).fetch_add(1, std::memory_order_relaxed);
  if (nonblocking) {
    timeout_ms = 0;  // a poll: no clock read needed
  } else if (deadline || max_wait) {
    Clock::time_point now = Clock::now();
    if (max_wait) deadline = deadline ? std::min(*deadline, now + *max_wait) : now + *max_wait;
    auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - now).count();
    timeout_ms = static_cast<int>(std::clamp<decltype(left)>(left, 0, 1 << 30));
  }

  int n = ::epoll_wait(s.epfd_, events_.data(), static_cast<int>(events_.size()), timeout_ms);
  if (n < 0) {
    if (errno != EINTR) return Err(IoError::last_os_error());  // see the header
    n = 0;  // a signal: the timers are still fired; the caller turns again
  }
  int handled = 0;
  for (int i = 0; i < n; ++i) {
    void* token = events_[i].data.ptr;
    if (token == &g_unpark_token) {
      std::uint64_t count;
      ssize_t r = ::read(s.evfd_, &count, sizeof count);  // reset to 0 (edge re-armed)
      (void)r;
      continue;
    }
    // SAFETY: see Registration::add; the reference is released no earlier
    // than the next turn's release_pending().
    auto* io = static_cast<ScheduledIo*>(token);
    std::uint32_t bits = bits_of(events_[i].events);
    if (observer_.on_ready != nullptr && !io->closed()) observer_.on_ready(observer_.ctx, io->fd(), bits);
    io->set_readiness(bits);
    ++handled;
  }
  fire_timers();
  return Ok(handled);
}
// [END turn]

// ---------------------------------------------------------------------- Sleep

Sleep::~Sleep() {
  // ORDERING: relaxed; the heap drops cancelled entries lazily and a late
  // fire of a cancelled entry wakes a waker nobody is waiting on.
  if (entry_) entry_->state.store(TimerEntry::kCancelled, std::memory_order_relaxed);
}

Poll<Unit> Sleep::poll(Context& cx) {
  if (done_) polled_after_completion("Sleep");
  if (!entry_) {  // first poll: arm the timer (futures are inert until polled)
    if (Clock::now() >= deadline_) {
      done_ = true;
      return Ready();
    }
    entry_ = Arc<TimerEntry>::make(deadline_);
    ReactorShared& shared = handle_.checked("Sleep::poll");
    entry_->waker.register_waker(cx.waker());
    shared.add_timer(entry_);
  } else {
    entry_->waker.register_waker(cx.waker());
  }
  // ORDERING: acquire, pairs with fire_timers' release (and the shutdown's).
  if (entry_->state.load(std::memory_order_acquire) == TimerEntry::kFired) {
    done_ = true;
    entry_ = Arc<TimerEntry>();
    return Ready();
  }
  return Pending;
}

}  // namespace pollwake::reactor
