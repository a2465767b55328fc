// poll/waker.h
//
// Models Rust's `std::task::Waker`: an owned handle that wakes one task.
//
//   Rust                          pollwake
//   unsafe Waker::from_raw(raw)   Waker::from_raw(raw)
//   waker.clone()                 copy construction  (calls vtable->clone)
//   drop(waker)                   destructor         (calls vtable->drop)
//   waker.wake()                  std::move(waker).wake()  (consumes)
//   waker.wake_by_ref()           waker.wake_by_ref()
//   waker.will_wake(&other)       same
//   waker.clone_from(&other)      same, and copy assignment
//   Waker::noop()                 Waker::noop()  (a `const Waker&`)
//   waker.data() / vtable()       same
//
// How pollwake differs, and why: C++ moves leave the source alive, so a
// moved-from Waker must still be safe to destroy. pollwake makes it the noop
// waker: moving transfers ownership, the source then drops nothing and its
// wake does nothing. Likewise `std::move(w).wake()` leaves `w` as the noop
// waker, and its destructor does not call vtable->drop (wake consumed it).
//
// Thread safety: a Waker may be sent to and used from any thread (all vtable
// functions must allow that). One Waker object is not synchronized: two
// threads that share one Waker object may both call wake_by_ref() and
// will_wake(), but not mutate it (assign, move, wake()) concurrently; give
// each thread its own clone, as Rust's ownership rules force you to.
//
// Its promises, and the tests that check them, are written once in
// docs/guarantees.md ("Wakers").
#ifndef POLLWAKE_POLL_WAKER_H_
#define POLLWAKE_POLL_WAKER_H_

#include <utility>

#include "poll/raw_waker.h"

namespace pollwake {

namespace detail {
// The noop waker's table: every entry does nothing; clone returns the same
// static RawWaker, so it needs no allocation and no reference count.
extern const RawWakerVTable kNoopVTable;

// [START waker_boundary]
// The one boundary between a Waker and its vtable (the rule is written in
// raw_waker.h): every call Waker makes into a vtable function goes through
// call_vtable. If the function throws, waker_broke prints which operation
// ("wake", "wake_by_ref", "clone" or "drop") broke the contract, and why,
// and aborts. On the normal path this costs nothing: the try block adds no
// instruction (the exception tables are only read when something throws).
// (clone, the one entry that returns two words, goes through call_clone
// below, which keeps that promise under g++ too.)
[[noreturn]] void waker_broke(const char* operation, const char* why) noexcept;
[[noreturn]] void waker_threw(const char* operation) noexcept;  // inside a catch

template <class R>
R call_vtable(R (*fn)(const void*), const void* data, const char* operation) noexcept {
  try {
    return fn(data);
  } catch (...) {
    waker_threw(operation);
  }
}
// [END waker_boundary]

// call_vtable for clone. The empty asm takes both words of the RawWaker in
// registers. Without it g++ 12 keeps a struct returned inside a try block in
// memory: two 8-byte stores, then one 16-byte load for the null-vtable check,
// which the CPU cannot forward from the stores (a store-forwarding stall of
// about 14 cycles; every Waker copy paid it, 5 ns of the 19 that
// waker_clone_drop measured). clang needs no help; the asm costs it nothing.
inline RawWaker call_clone(const RawWaker& raw) noexcept {
  const void* data = nullptr;
  const RawWakerVTable* vtable = nullptr;
  try {
    RawWaker fresh = raw.vtable->clone(raw.data);
    data = fresh.data;
    vtable = fresh.vtable;
    asm("" : "+r"(data), "+r"(vtable));
  } catch (...) {
    waker_threw("clone");
  }
  return RawWaker{data, vtable};
}
}  // namespace detail

class Waker {
 public:
  // Waker::from_raw: takes ownership of `raw`. `raw.vtable` must keep the
  // contract written in raw_waker.h; a null vtable is refused
  // (std::invalid_argument) instead of crashing later.
  static Waker from_raw(RawWaker raw);

  // Waker::noop: a waker that does nothing when woken. Useful for polling a
  // future whose wake-ups you do not care about (tests, benchmarks).
  static const Waker& noop() noexcept;

  // Copy = Rust's `clone`: calls vtable->clone. A clone that throws, or that
  // returns a RawWaker with a null vtable, breaks the contract: the process
  // stops (raw_waker.h). So copying a Waker never throws.
  Waker(const Waker& other) noexcept : raw_(checked_clone(other.raw_)) {}

  // [START waker_move]
  // Move transfers ownership without calling clone or drop; `other` becomes
  // the noop waker.
  Waker(Waker&& other) noexcept : raw_(std::exchange(other.raw_, noop_raw())) {}
  // [END waker_move]

  // Copy assignment = Rust's `clone_from`: skips the clone (and the drop)
  // when both wakers already wake the same task.
  Waker& operator=(const Waker& other) noexcept {
    clone_from(other);
    return *this;
  }

  Waker& operator=(Waker&& other) noexcept {
    if (this != &other) {
      Waker old(std::move(*this));  // dropped at the end of this scope
      raw_ = std::exchange(other.raw_, noop_raw());
    }
    return *this;
  }

  // Destructor = Rust's `Drop`: calls vtable->drop exactly once per owned
  // RawWaker.
  ~Waker() { detail::call_vtable(raw_.vtable->drop, raw_.data, "drop"); }

  // [START waker_wake]
  // Waker::wake: wakes the task and consumes this waker (vtable->wake, then
  // no vtable->drop). Afterwards *this is the noop waker.
  void wake() && noexcept {
    RawWaker raw = std::exchange(raw_, noop_raw());
    detail::call_vtable(raw.vtable->wake, raw.data, "wake");
  }

  // Waker::wake_by_ref: wakes the task; the waker stays usable.
  void wake_by_ref() const noexcept {
    detail::call_vtable(raw_.vtable->wake_by_ref, raw_.data, "wake_by_ref");
  }
  // [END waker_wake]

  // Waker::will_wake: true when both wakers would wake the same task, judged
  // as Rust does: same data pointer and same vtable. A false answer does not
  // prove they wake different tasks. Rust warns that comparing its vtables
  // is unreliable (function pointers may be duplicated or merged); a C++
  // table is one object with one address, so the comparison is exact as long
  // as each table is defined once (a `static` or `inline constexpr` object).
  bool will_wake(const Waker& other) const noexcept {
    return raw_.data == other.raw_.data && raw_.vtable == other.raw_.vtable;
  }

  // [START waker_clone_from]
  // Waker::clone_from: makes *this wake what `other` wakes. When will_wake
  // already holds it does nothing (no clone, no drop): executors call this on
  // every poll to refresh a stored waker, and it is usually the same one.
  void clone_from(const Waker& other) noexcept {
    if (will_wake(other)) return;
    RawWaker fresh = checked_clone(other.raw_);
    RawWaker old = std::exchange(raw_, fresh);
    detail::call_vtable(old.vtable->drop, old.data, "drop");
  }
  // [END waker_clone_from]

  const void* data() const noexcept { return raw_.data; }
  const RawWakerVTable* vtable() const noexcept { return raw_.vtable; }

  // Rust: there is no `into_raw` on stable; pollwake offers it for adapters
  // (C ABI bridges) that must hand ownership across a boundary. The caller
  // now owns the RawWaker and must eventually wake or drop it once.
  RawWaker into_raw() && { return std::exchange(raw_, noop_raw()); }

 private:
  explicit Waker(RawWaker raw) noexcept : raw_(raw) {}
  static constexpr RawWaker noop_raw() noexcept {
    return RawWaker{nullptr, &detail::kNoopVTable};
  }
  // Calls raw.vtable->clone through the boundary; a null vtable in what it
  // returns stops the process too (Rust's type system rules it out: the
  // vtable is a `&'static`). The check stays inline so a clone costs no
  // extra call.
  static RawWaker checked_clone(const RawWaker& raw) noexcept {
    RawWaker fresh = detail::call_clone(raw);
    if (fresh.vtable == nullptr) [[unlikely]] {
      detail::waker_broke("clone", "it returned a RawWaker with a null vtable");
    }
    return fresh;
  }

  RawWaker raw_;
};

}  // namespace pollwake

#endif  // POLLWAKE_POLL_WAKER_H_
