// tests/poll/counting_waker.h: a RawWakerVTable whose four functions count
// their calls, the fixture the poll/ tests use to check the Waker contract.
//
// Each CountingWaker is one "task". The waker's data pointer is the
// CountingWaker itself; every owned RawWaker is one reference, so
//   live() = 1 (from_raw) + clones - wakes - drops
// is the number of owned RawWakers still alive. A test that ends with
// live() == 0 has neither leaked a waker nor dropped one twice (a second drop
// would make it negative).
//
// Switches make the functions misbehave, to test what Waker does then:
// throw_on_clone, throw_on_wake, throw_on_wake_by_ref, throw_on_drop,
// null_vtable_on_clone.
// All counters are atomics, so wakers may be used from several threads.
#ifndef POLLWAKE_TESTS_POLL_COUNTING_WAKER_H_
#define POLLWAKE_TESTS_POLL_COUNTING_WAKER_H_

#include <atomic>
#include <stdexcept>

#include "poll/raw_waker.h"
#include "poll/waker.h"

namespace pollwake::testing {

// Thrown by a CountingWaker's vtable functions when a switch asks for it.
struct VTableError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class CountingWaker {
 public:
  // A new Waker that owns one reference to this task (no clone is counted).
  Waker waker() { return Waker::from_raw(RawWaker{this, &kVTable}); }
  // The RawWaker itself, for tests that build Wakers by hand.
  RawWaker raw() { return RawWaker{this, &kVTable}; }

  int clones() const { return clones_.load(); }
  int wakes() const { return wakes_.load(); }
  int wake_by_refs() const { return wake_by_refs_.load(); }
  int drops() const { return drops_.load(); }
  // Owned RawWakers still alive, counting the one from_raw took (see above).
  int live() const { return 1 + clones() - wakes() - drops(); }

  std::atomic<bool> throw_on_clone{false};
  std::atomic<bool> throw_on_wake{false};
  std::atomic<bool> throw_on_wake_by_ref{false};
  std::atomic<bool> throw_on_drop{false};
  std::atomic<bool> null_vtable_on_clone{false};

  static const RawWakerVTable kVTable;

 private:
  static CountingWaker& self(const void* data) {
    // SAFETY: every RawWaker with kVTable was made by waker()/raw() above, so
    // `data` points at a live, non-const CountingWaker.
    return *const_cast<CountingWaker*>(static_cast<const CountingWaker*>(data));
  }
  // [START counting_vtable]
  static RawWaker clone(const void* data) {
    CountingWaker& c = self(data);
    if (c.throw_on_clone) throw VTableError("clone");
    if (c.null_vtable_on_clone) return RawWaker{data, nullptr};  // no reference made
    c.clones_.fetch_add(1);
    return RawWaker{data, &kVTable};
  }
  static void wake(const void* data) {
    CountingWaker& c = self(data);
    c.wakes_.fetch_add(1);  // counted first: the reference is consumed even if it throws
    if (c.throw_on_wake) throw VTableError("wake");
  }
  static void wake_by_ref(const void* data) {
    CountingWaker& c = self(data);
    c.wake_by_refs_.fetch_add(1);
    if (c.throw_on_wake_by_ref) throw VTableError("wake_by_ref");
  }
  static void drop(const void* data) {
    CountingWaker& c = self(data);
    c.drops_.fetch_add(1);
    if (c.throw_on_drop) throw VTableError("drop");
  }
  // [END counting_vtable]

  std::atomic<int> clones_{0};
  std::atomic<int> wakes_{0};
  std::atomic<int> wake_by_refs_{0};
  std::atomic<int> drops_{0};
};

inline const RawWakerVTable CountingWaker::kVTable{&CountingWaker::clone, &CountingWaker::wake,
                                                    &CountingWaker::wake_by_ref,
                                                    &CountingWaker::drop};

}  // namespace pollwake::testing

#endif  // POLLWAKE_TESTS_POLL_COUNTING_WAKER_H_
