// poll/wake.h
//
// Models Rust's `std::task::Wake` / `futures::task::ArcWake`, the
// `impl From<Arc<W>> for Waker`, and `futures::task::waker_ref`: how to get a
// Waker from a reference-counted object without writing a vtable by hand.
//
//   Rust                                   pollwake
//   impl ArcWake for W {                   struct W { void wake_by_ref() const; }
//     fn wake_by_ref(arc_self: &Arc<Self>)   (satisfies the Wake concept)
//   }
//   Waker::from(arc) / waker(arc)          waker_from(std::move(arc))
//   waker_ref(&arc) -> WakerRef<'_>        waker_ref(arc) -> WakerRef
//
// A type W satisfies `Wake` when `w.wake_by_ref()` compiles on a `const W&`.
// Rust's `wake_by_ref(self: &Arc<Self>)` gives shared access only: many
// wakers of one task may call it at once, from any thread, so whatever it
// changes must be synchronized (atomics, a mutex: `mutable` members here,
// interior mutability in Rust). A non-const wake_by_ref would promise
// exclusive access that concurrent wakes cannot give, so it is refused. It may also
// define `static void wake(Arc<W> self)` to make the consuming wake cheaper;
// otherwise wake is wake_by_ref followed by dropping the reference, which is
// ArcWake's default. (std's Wake trait has it the other way round: `wake` is
// required and `wake_by_ref` defaults to clone-then-wake, which costs an
// extra increment; pollwake follows ArcWake.)
//
// The Waker's data pointer is the Arc's value pointer and its vtable is one
// static table per W, so waker_from allocates nothing: clone is one atomic
// increment and drop one atomic decrement. wake_by_ref must be safe to call
// from any thread, concurrently (the Waker contract).
//
// Its promises, and the tests that check them, are written once in
// docs/guarantees.md ("Wakers").
#ifndef POLLWAKE_POLL_WAKE_H_
#define POLLWAKE_POLL_WAKE_H_

#include <stdexcept>
#include <utility>

#include "poll/arc.h"
#include "poll/raw_waker.h"
#include "poll/waker.h"

namespace pollwake {

template <class W>
concept Wake = requires(const W& w) { w.wake_by_ref(); };

namespace detail {

template <class W>
concept HasStaticWake = requires(Arc<W> a) { W::wake(std::move(a)); };

// [START arc_waker_vtable]
template <Wake W>
struct ArcWakerVTable {
  // SAFETY (all four): `data` is a pointer produced by Arc<W>::into_raw and
  // owns one strong reference (for clone, wake_by_ref: borrows it).
  static RawWaker clone(const void* data) {
    Arc<W>::increment_strong_count(static_cast<const W*>(data));
    return RawWaker{data, &kTable};
  }
  static void wake(const void* data) {
    Arc<W> self = Arc<W>::from_raw(static_cast<const W*>(data));
    if constexpr (HasStaticWake<W>) {
      W::wake(std::move(self));
    } else {
      std::as_const(*self).wake_by_ref();
    }  // `self` is dropped here: wake consumed the reference.
  }
  static void wake_by_ref(const void* data) {
    static_cast<const W*>(data)->wake_by_ref();  // shared access only
  }
  static void drop(const void* data) {
    Arc<W>::decrement_strong_count(static_cast<const W*>(data));
  }
  static constexpr RawWakerVTable kTable{&clone, &wake, &wake_by_ref, &drop};
};
// [END arc_waker_vtable]

}  // namespace detail

// waker_from: turns a strong reference into a Waker (Rust: `Waker::from(arc)`).
// No allocation: the Waker owns the reference the Arc held. An empty
// (moved-from) Arc is refused with std::invalid_argument.
template <Wake W>
Waker waker_from(Arc<W> arc) {
  if (!arc) throw std::invalid_argument("waker_from: empty Arc");
  const W* data = std::move(arc).into_raw();
  return Waker::from_raw(RawWaker{data, &detail::ArcWakerVTable<W>::kTable});
}

// WakerRef: a Waker that borrows an Arc's reference instead of owning one
// (Rust: `futures::task::WakerRef<'a>`). Building and destroying it touches no
// reference count; cloning the Waker inside (`Waker w = ref;`) takes a real
// reference. The Arc must outlive the WakerRef.
class WakerRef {
 public:
  explicit WakerRef(RawWaker borrowed) : waker_(Waker::from_raw(borrowed)) {}
  WakerRef(const WakerRef&) = delete;
  WakerRef& operator=(const WakerRef&) = delete;
  // Deliberately does not destroy waker_: the reference is only borrowed, so
  // vtable->drop must not run (Rust wraps it in ManuallyDrop).
  ~WakerRef() {}

  operator const Waker&() const& noexcept { return waker_; }  // NOLINT
  // Not from a temporary WakerRef: the Waker would die with it at the end of
  // the statement (`Context::from_waker(waker_ref(arc))` would dangle).
  operator const Waker&() const&& = delete;
  const Waker& get() const noexcept { return waker_; }

 private:
  union {
    Waker waker_;
  };
};

// waker_ref: borrows `arc` as a Waker without touching its count. An empty
// Arc is refused with std::invalid_argument.
template <Wake W>
WakerRef waker_ref(const Arc<W>& arc) {
  if (!arc) throw std::invalid_argument("waker_ref: empty Arc");
  return WakerRef(RawWaker{arc.get(), &detail::ArcWakerVTable<W>::kTable});
}

}  // namespace pollwake

#endif  // POLLWAKE_POLL_WAKE_H_
