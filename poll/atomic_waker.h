// poll/atomic_waker.h
//
// Models `futures::task::AtomicWaker` (futures-core's `AtomicWaker`): one
// slot for a Waker that one task fills while any thread may take it out and
// wake it, with no lock.
//
//   Rust                          pollwake
//   AtomicWaker::new()            AtomicWaker{}
//   aw.register(&waker)           aw.register_waker(waker)   (`register` is a
//                                                             C++ keyword)
//   aw.wake()                     same
//   aw.take() -> Option<Waker>    aw.take() -> std::optional<Waker>
//
// THE RULE for the consumer (the task that registers): register first, then
// check the condition again; only if it is still not met return Pending.
//
//     Poll<Unit> poll(Context& cx) {
//       if (flag.load(acquire)) return Ready();   // fast path
//       aw.register_waker(cx.waker());
//       if (flag.load(acquire)) return Ready();   // checked again, AFTER register
//       return Pending;
//     }
//
// and for the producer: make the condition true, then wake():
//     flag.store(true, release); aw.wake();
// If the producer's wake() runs before register_waker(), it finds no waker
// and does nothing, but then the consumer's second check sees the flag. If
// it runs after, it takes the registered waker and wakes it. If it runs
// during, the protocol below hands the wake to the registering thread. In no
// order is the wake lost.
//
// Why the second check is not optional: a wake() that ran before
// register_waker found an empty slot and is gone; only the check sees its
// effect. (A wake() that lands during register_waker is seen twice: the
// protocol wakes the new waker, and the second check sees the condition,
// because the WAKING bit it reads carries the producer's release. The first
// is what lets futures-rs promise "a wake concurrent with register wakes the
// registering task" without relying on the caller.)
//
// The protocol: `state` holds two bits.
//   WAITING     = 0   nobody is in the slot       -> REGISTERING (register)
//                                                  -> WAKING      (take/wake)
//   REGISTERING = 1   register_waker is writing the slot
//                                                  -> WAITING     (done, no wake came)
//                                                  -> REGISTERING|WAKING (a wake came)
//   WAKING      = 2   take() is reading the slot   -> WAITING     (taken)
//   REGISTERING|WAKING = 3: a wake arrived while register_waker wrote the
//                     slot; the register side wakes the new waker itself,
//                     then -> WAITING.
// Only the thread that moved the state out of WAITING touches the slot, so
// the slot needs no lock.
//
// What is allowed: register_waker from one task at a time (the consumer);
// wake() and take() from any number of threads, concurrently with each other
// and with register_waker. Two concurrent register_waker calls are a misuse
// (Rust documents the same): the second one does nothing, as futures-rs's
// does, and its waker may never be woken.
//
// Memory ordering: the acquire on leaving WAITING pairs with the release on
// returning to it, so whoever touches the slot next sees the previous
// writer's Waker completely; see the ORDERING comments at each step.
//
// Its promises, and the tests that check them, are written once in
// docs/guarantees.md ("AtomicWaker and channels").
#ifndef POLLWAKE_POLL_ATOMIC_WAKER_H_
#define POLLWAKE_POLL_ATOMIC_WAKER_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <utility>

#include "poll/waker.h"

namespace pollwake {

class AtomicWaker {
 public:
  AtomicWaker() = default;
  AtomicWaker(const AtomicWaker&) = delete;  // it is shared by address
  AtomicWaker& operator=(const AtomicWaker&) = delete;

  // AtomicWaker::register_waker: stores a clone of `waker` (skipping the
  // clone when the stored one already wakes the same task), to be woken by
  // the next wake(). If a wake() runs concurrently, `waker` is woken here
  // instead, so the caller must check its condition again after this call.
  void register_waker(const Waker& waker) {
    std::uint8_t state = kWaiting;
    // ORDERING: acquire on success, so the slot writes of the previous
    // register/take (released when they went back to WAITING) are visible
    // before we write the slot.
    if (state_.compare_exchange_strong(state, kRegistering, std::memory_order_acquire,
                                       std::memory_order_acquire)) {
      // We own the slot until we leave REGISTERING. The store-or-refresh is
      // written out here rather than through LatestWaker (poll/
      // latest_waker.h): there is no lock, and the state machine around it is
      // what this type teaches. Cloning cannot throw (a
      // waker that throws stops the process: poll/raw_waker.h), so there is
      // no path that leaves the state REGISTERING.
      if (slot_) {
        slot_->clone_from(waker);
      } else {
        slot_.emplace(waker);
      }
      std::uint8_t expected = kRegistering;
      // ORDERING: release on success publishes the slot to the next take();
      // acquire on failure orders our re-read of the slot after the waker
      // that saw REGISTERING and set WAKING.
      if (state_.compare_exchange_strong(expected, kWaiting, std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
        return;  // no wake came while we wrote the slot
      }
      // A wake() came while we wrote the slot (state is REGISTERING|WAKING)
      // and left without a waker: we deliver it, to the waker just stored.
      std::optional<Waker> w = std::exchange(slot_, std::nullopt);
      // ORDERING: acq_rel; release publishes the emptied slot, as above.
      state_.exchange(kWaiting, std::memory_order_acq_rel);
      if (w) std::move(*w).wake();
      return;
    }
    if (state == kWaking) {
      // A take() owns the slot right now and is about to wake the previous
      // waker, which may not be this task's: wake this one directly.
      waker.wake_by_ref();
    }
    // Else REGISTERING or REGISTERING|WAKING: a concurrent register_waker
    // (misuse, see the header); do nothing, as futures-rs does.
  }

  // AtomicWaker::wake: wakes the registered waker, if any, and empties the
  // slot. May be called from any thread.
  void wake() {
    if (std::optional<Waker> w = take()) std::move(*w).wake();
  }

  // AtomicWaker::take: empties the slot and returns its waker, or nullopt
  // when it is empty or a register_waker is running (that one will see the
  // WAKING bit and wake its waker itself).
  std::optional<Waker> take() {
    // ORDERING: acq_rel. Acquire, so that if we find WAITING we see the
    // Waker that register_waker released; release, so that a concurrent
    // register_waker that sees our WAKING bit also sees the condition the
    // producer set before calling wake().
    std::uint8_t prev = state_.fetch_or(kWaking, std::memory_order_acq_rel);
    if (prev != kWaiting) return std::nullopt;  // someone else owns the slot
    std::optional<Waker> w = std::exchange(slot_, std::nullopt);
    // ORDERING: release, publishing the emptied slot to the next owner.
    state_.fetch_and(static_cast<std::uint8_t>(~kWaking), std::memory_order_release);
    return w;
  }

 private:
  static constexpr std::uint8_t kWaiting = 0;
  static constexpr std::uint8_t kRegistering = 1;
  static constexpr std::uint8_t kWaking = 2;

  std::atomic<std::uint8_t> state_{kWaiting};
  std::optional<Waker> slot_;  // touched only by the thread that left WAITING
};

}  // namespace pollwake

#endif  // POLLWAKE_POLL_ATOMIC_WAKER_H_
