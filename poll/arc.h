// poll/arc.h
//
// Models Rust's `std::sync::Arc<T>`: a thread-safe reference-counted pointer,
// with the raw-pointer round trip a waker vtable needs.
//
//   Rust                        pollwake
//   Arc::new(v)                 Arc<T>::make(args...)
//   arc.clone()                 copy construction
//   drop(arc)                   destructor
//   Arc::into_raw(arc)          std::move(arc).into_raw()  -> const T*
//   unsafe Arc::from_raw(p)     Arc<T>::from_raw(p)
//   Arc::increment_strong_count Arc<T>::increment_strong_count(p)
//   Arc::strong_count(&arc)     arc.strong_count()
//   Arc::ptr_eq                 Arc<T>::ptr_eq(a, b)
//
// How pollwake differs, and why: std::shared_ptr cannot be rebuilt from a raw
// pointer, and a RawWakerVTable receives nothing but a `const void*`. So this
// Arc is intrusive in layout: one allocation holds the strong count followed
// by the value, at a fixed offset, and from_raw steps back from the value to
// the count. There are no weak references (pollwake does not need them).
//
// A default-built or moved-from Arc is empty (Rust has no such state): it owns nothing,
// `bool(arc)` is false, get() and into_raw() return nullptr, strong_count()
// is 0, copying it gives another empty Arc, and from_raw(nullptr) gives an
// empty Arc. Dereferencing an empty Arc is the caller's bug, as for an empty
// std::unique_ptr.
//
// Memory ordering: increments are relaxed (a new reference can only be made
// from an existing one, which already keeps the object alive); decrements are
// acq_rel, so every use of the value on any thread happens before its
// destruction. Rust and Boost use release plus an acquire fence on the last
// decrement; ThreadSanitizer does not model fences, and on x86 both compile
// to the same locked instruction, so pollwake takes acq_rel.
//
// Its promises, and the tests that check them, are written once in
// docs/guarantees.md ("Wakers").
#ifndef POLLWAKE_POLL_ARC_H_
#define POLLWAKE_POLL_ARC_H_

#include <atomic>
#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace pollwake {

template <class T>
class Arc {
 public:
  // Arc::make: allocates the count and the value in one block.
  template <class... Args>
  static Arc make(Args&&... args) {
    void* block = ::operator new(kBlockSize, std::align_val_t{kAlign});
    auto* count = ::new (block) std::atomic<std::size_t>(1);
    try {
      ::new (static_cast<void*>(value_address(count))) T(std::forward<Args>(args)...);
    } catch (...) {
      count->~atomic();
      ::operator delete(block, std::align_val_t{kAlign});
      throw;
    }
    return Arc(count);
  }

  // An empty Arc (owns nothing), for members filled in later.
  constexpr Arc() noexcept : count_(nullptr) {}

  Arc(const Arc& other) noexcept : count_(other.count_) {
    if (count_ != nullptr) increment(count_);  // copying an empty Arc: empty
  }
  Arc(Arc&& other) noexcept : count_(std::exchange(other.count_, nullptr)) {}
  Arc& operator=(Arc other) noexcept {
    std::swap(count_, other.count_);
    return *this;
  }
  ~Arc() {
    if (count_ != nullptr) decrement(count_);
  }

  T* get() const noexcept { return count_ == nullptr ? nullptr : value_address(count_); }
  T& operator*() const noexcept { return *get(); }
  T* operator->() const noexcept { return get(); }
  explicit operator bool() const noexcept { return count_ != nullptr; }

  // Arc::strong_count: a snapshot; other threads may change it at once.
  // ORDERING: relaxed; the value is only a hint, nothing is read through it.
  std::size_t strong_count() const noexcept {
    return count_ == nullptr ? 0 : count_->load(std::memory_order_relaxed);
  }

  static bool ptr_eq(const Arc& a, const Arc& b) noexcept {
    return a.count_ == b.count_;
  }

  // Arc::into_raw: gives up this reference without releasing it. The pointer
  // must come back through from_raw (or decrement_strong_count) exactly once.
  // An empty Arc gives nullptr.
  const T* into_raw() && noexcept {
    Count* count = std::exchange(count_, nullptr);
    return count == nullptr ? nullptr : value_address(count);
  }

  // Arc::from_raw: takes back a reference given up by into_raw.
  // SAFETY: `p` must come from into_raw on an Arc<T> of this same T, and that
  // reference must not have been taken back already. nullptr gives an empty Arc.
  static Arc from_raw(const T* p) noexcept {
    return Arc(p == nullptr ? nullptr : count_address(p));
  }

  // Arc::increment_strong_count: adds a reference for a raw pointer (what a
  // waker's clone does) without building an Arc.
  // SAFETY (both): `p` comes from into_raw on a live, non-empty Arc<T>; for
  // decrement, it must own the reference it gives back (as for from_raw).
  static void increment_strong_count(const T* p) noexcept { increment(count_address(p)); }
  // Arc::decrement_strong_count: drops a reference held as a raw pointer.
  static void decrement_strong_count(const T* p) noexcept { decrement(count_address(p)); }

 private:
  using Count = std::atomic<std::size_t>;
  // The value sits right after the count, rounded up to its own alignment.
  static constexpr std::size_t kAlign =
      alignof(T) > alignof(Count) ? alignof(T) : alignof(Count);
  static constexpr std::size_t kOffset =
      (sizeof(Count) + alignof(T) - 1) / alignof(T) * alignof(T);
  static constexpr std::size_t kBlockSize = kOffset + sizeof(T);

  explicit Arc(Count* count) noexcept : count_(count) {}

  // SAFETY: both helpers do pointer arithmetic inside the one block made by
  // make(): the value always lives exactly kOffset bytes after the count.
  static T* value_address(Count* count) noexcept {
    return std::launder(reinterpret_cast<T*>(reinterpret_cast<std::byte*>(count) + kOffset));
  }
  static Count* count_address(const T* value) noexcept {
    // const_cast: the block was allocated non-const by make(); the count is
    // mutable state even when T is const.
    auto* bytes = reinterpret_cast<std::byte*>(const_cast<std::remove_const_t<T>*>(value));
    return std::launder(reinterpret_cast<Count*>(bytes - kOffset));
  }

  static void increment(Count* count) noexcept {
    // ORDERING: relaxed; the caller already holds a reference, so the object
    // cannot be destroyed concurrently and nothing needs to be published.
    count->fetch_add(1, std::memory_order_relaxed);
  }
  static void decrement(Count* count) noexcept {
    // ORDERING: acq_rel. The release half publishes this thread's uses of the
    // value; the acquire half makes the thread that drops the last reference
    // see every other thread's uses before it destroys the value.
    if (count->fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    value_address(count)->~T();
    count->~atomic();
    ::operator delete(static_cast<void*>(count), std::align_val_t{kAlign});
  }

  Count* count_;
};

}  // namespace pollwake

#endif  // POLLWAKE_POLL_ARC_H_
