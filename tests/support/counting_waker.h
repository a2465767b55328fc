// tests/support/counting_waker.h: a RawWakerVTable whose four functions count
// their calls, the fixture tests use to check the Waker contract and to see
// which task a future woke, and how often.
//
// Each CountingWaker is one "task"; the waker's data pointer is the
// CountingWaker itself. Two ways to get a waker:
//   waker()  the root waker, owned by the fixture: a `const Waker&` to pass
//            to a poll. It is not counted (neither made nor dropped), so
//            clones() counts exactly what the code under test cloned.
//   owned()  a new Waker that owns one reference (from_raw; counted as made),
//            for tests of Waker itself that move, wake and drop it by hand.
// live() = made + clones - wakes - drops is the number of counted wakers
// still alive. A test that ends with live() == 0 has neither leaked a waker
// nor dropped one twice (a second drop would make it negative).
//
// Switches make the functions misbehave, to test what Waker does then:
// throw_on_clone, throw_on_wake, throw_on_wake_by_ref, throw_on_drop,
// null_vtable_on_clone. All counters are atomics, so wakers may be used from
// several threads.
#ifndef POLLWAKE_TESTS_SUPPORT_COUNTING_WAKER_H_
#define POLLWAKE_TESTS_SUPPORT_COUNTING_WAKER_H_

#include <atomic>
#include <stdexcept>
#include <utility>

#include "poll/raw_waker.h"
#include "poll/waker.h"

namespace pollwake::testing {

// Thrown by a CountingWaker's vtable functions when a switch asks for it.
struct VTableError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class CountingWaker {
 public:
  CountingWaker() : root_(Waker::from_raw(RawWaker{this, &kVTable})) {}
  // The root is not dropped through the vtable (it was never counted).
  ~CountingWaker() { (void)std::move(root_).into_raw(); }
  CountingWaker(const CountingWaker&) = delete;
  CountingWaker& operator=(const CountingWaker&) = delete;

  // The root waker (see above); copying it is a counted clone.
  const Waker& waker() const { return root_; }
  // A new Waker that owns one reference to this task (counted as made).
  Waker owned() { return Waker::from_raw(raw()); }
  // The RawWaker itself, owning one reference (counted as made), for tests
  // that build Wakers by hand.
  RawWaker raw() {
    made_.fetch_add(1);
    return RawWaker{this, &kVTable};
  }

  int made() const { return made_.load(); }
  int clones() const { return clones_.load(); }
  int wakes() const { return wakes_.load(); }                // consuming wake()
  int wake_by_refs() const { return wake_by_refs_.load(); }  // wake_by_ref()
  int woken() const { return wakes() + wake_by_refs(); }     // either kind
  int drops() const { return drops_.load(); }
  // Counted wakers still alive (see above).
  int live() const { return made() + clones() - wakes() - drops(); }

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

  std::atomic<int> made_{0};
  std::atomic<int> clones_{0};
  std::atomic<int> wakes_{0};
  std::atomic<int> wake_by_refs_{0};
  std::atomic<int> drops_{0};
  Waker root_;  // last: built once the counters exist
};

inline const RawWakerVTable CountingWaker::kVTable{&CountingWaker::clone, &CountingWaker::wake,
                                                    &CountingWaker::wake_by_ref,
                                                    &CountingWaker::drop};

}  // namespace pollwake::testing

#endif  // POLLWAKE_TESTS_SUPPORT_COUNTING_WAKER_H_
