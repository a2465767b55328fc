// interop/ffi/ffi_future.h
//
// Models the async-ffi crate's Rust side (0.5.1): `FfiFuture<T>` as a future,
// `FutureExt::into_ffi`, `ContextExt::with_ffi_context` and
// `FfiContext::with_context` (the two waker bridges), `PollPanicked`, and its
// panic rules. The C layout is async_ffi.h.
//
//   Rust (async_ffi)                    pollwake::ffi
//   fut.into_ffi() -> FfiFuture<T>      into_ffi(std::move(fut)) -> FfiFuture<T>
//   fut.into_local_ffi()                into_local_ffi(...) (same type: C++
//                                         cannot check Send either)
//   impl Future for FfiFuture<T>        FfiFuture<T> is a pollwake Future
//   (an extern fn returns FfiFuture)    FfiFuture<T>::from_raw(FfiFuture_u32)
//                                       / std::move(f).into_raw() at the ABI
//   FfiPoll::Panicked -> panic!         -> throws FfiPanicked
//   PollPanicked                        FfiPanicked
//   panic in drop / waker fn -> abort   exception there -> message, abort
//
// Payload types: uint32_t, uint64_t, void* and Unit (Rust's `()`), mapped to
// the C structs by FfiAbi<T>. Another payload needs its C pair declared with
// POLLWAKE_FFI_DECLARE and an FfiAbi specialization like the ones below.
//
// How pollwake differs, and why:
//   * Rust's FfiFuture is the ABI struct and the owning handle at once
//     (its Drop calls drop_fn, and rustc passes it as a plain struct). A C++
//     class with a destructor is passed differently from a C struct, so the
//     owning FfiFuture<T> and the C struct FfiFuture_<name> are two types:
//     extern "C" functions return and take the C struct, and code wraps it
//     once, right at the boundary (from_raw / into_raw).
//   * Waker clones. Polling an FfiFuture hands the foreign side a borrowed
//     waker on the stack (as the crate does). Its first clone costs one
//     allocation, as in the crate; clones of that clone share it (one atomic
//     increment, where the crate allocates again), and waking the last one
//     consumes the pollwake Waker without a clone.
//   * Exceptions are C++'s panics. An exception escaping a poll of a future
//     made by into_ffi is caught at the boundary, its what() is written to
//     stderr (where Rust's panic hook writes a panic's message), and poll_fn
//     returns Panicked. An exception escaping the future's destructor or a
//     pollwake waker function called through the C vtable ends the process:
//     `pollwake ffi: abort due to an exception across the FFI boundary in
//     <where>: <what>` on stderr, then std::abort (the crate's DropBomb).
//   * Bad input is refused with FfiError (std::invalid_argument) naming the
//     problem: from_raw of a future with a null poll_fn or drop_fn, a poll_fn
//     answering an unknown tag. A poll_fn made by into_ffi that receives a
//     null context, a null waker or a waker with a null vtable returns
//     Panicked with that message on stderr. A foreign waker whose clone
//     returns null or a waker with a null vtable ends the process with a
//     message (Waker::clone), wherever the clone happens. Polling an FfiFuture after Ready
//     (or after Panicked) throws FuturePolledAfterCompletion without crossing
//     the boundary; a future made by into_ffi and polled again by foreign
//     code after Ready or Panicked answers Panicked without running it.
//
// Memory ordering: the shared waker clone (detail::OwnedWaker) is reference
// counted like Arc (increment relaxed, decrement release + acquire fence on
// the last one). A holder that reads a count of 1 with acquire is the only
// one left (nobody can clone without a reference), so its drop or wake skips
// the decrement; see the ORDERING comments there.
#ifndef POLLWAKE_INTEROP_FFI_FFI_FUTURE_H_
#define POLLWAKE_INTEROP_FFI_FFI_FUTURE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "interop/ffi/async_ffi.h"
#include "poll/context.h"
#include "poll/future.h"
#include "poll/poll.h"
#include "poll/raw_waker.h"
#include "poll/waker.h"

namespace pollwake::ffi {

// FfiPanicked: the foreign poll function reported a panic (Rust's host
// panics with "FFI future panicked"; PollPanicked says "FFI poll function
// panicked"). The future is finished afterwards.
class FfiPanicked : public std::runtime_error {
 public:
  FfiPanicked() : std::runtime_error("FFI future panicked (its poll function returned Panicked)") {}
};

// FfiError: a future or waker that breaks the C contract, refused.
class FfiError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// FfiAbi<T>: the C structs for payload T and how to read and write them.
template <class T>
struct FfiAbi;  // not defined: declare the payload's C pair first

namespace detail {
template <class T, class P, class F>
struct PayloadAbi {
  using Poll = P;
  using Future = F;
  static P ready(T v) noexcept {
    P p{};
    p.tag = FFI_POLL_READY;
    p.ready = v;
    return p;
  }
  static T value(const P& p) noexcept { return p.ready; }
  static P with_tag(uint8_t tag) noexcept {
    P p{};
    p.tag = tag;
    return p;
  }
};
}  // namespace detail

template <>
struct FfiAbi<uint32_t> : detail::PayloadAbi<uint32_t, FfiPoll_u32, FfiFuture_u32> {};
template <>
struct FfiAbi<uint64_t> : detail::PayloadAbi<uint64_t, FfiPoll_u64, FfiFuture_u64> {};
template <>
struct FfiAbi<void*> : detail::PayloadAbi<void*, FfiPoll_ptr, FfiFuture_ptr> {};
template <>
struct FfiAbi<Unit> {
  using Poll = FfiPoll_unit;
  using Future = FfiFuture_unit;
  static Poll ready(Unit) noexcept { return with_tag(FFI_POLL_READY); }
  static Unit value(const Poll&) noexcept { return Unit{}; }
  static Poll with_tag(uint8_t tag) noexcept { return Poll{tag}; }
};

namespace detail {

// Ends the process because an exception reached a function that must not
// fail (a destructor or a waker function called through the C ABI).
[[noreturn]] inline void abort_at_boundary(const char* where, const char* what) noexcept {
  std::fprintf(stderr, "pollwake ffi: abort due to an exception across the FFI boundary in %s: %s\n",
               where, what);
  std::fflush(stderr);
  std::abort();
}

// Runs f; an exception from it ends the process (the crate's DropBomb::with).
template <class F>
auto abort_on_exception(const char* where, F&& f) noexcept -> decltype(f()) {
  try {
    return std::forward<F>(f)();
  } catch (const std::exception& e) {
    abort_at_boundary(where, e.what());
  } catch (...) {
    abort_at_boundary(where, "an exception not derived from std::exception");
  }
}

// ---- Host side: a pollwake Waker seen as an FfiWakerBase -------------------
// (the crate's ContextExt::with_ffi_context, C_WAKER_VTABLE_REF and _OWNED)

// The waker handed to poll_fn: on the poller's stack, borrowing cx.waker().
struct BorrowedWaker {
  FfiWakerBase base;  // first: the foreign side sees only this
  const Waker* waker;
};

// A clone of it: one allocation holding a clone of the pollwake Waker,
// shared by all further clones.
struct OwnedWaker {
  FfiWakerBase base;  // first: the foreign side sees only this
  std::atomic<std::size_t> refs;
  Waker waker;
};
static_assert(std::is_standard_layout_v<BorrowedWaker> && std::is_standard_layout_v<OwnedWaker>,
              "the base must be pointer-interconvertible with the whole waker");

struct OwnedWakerVTable {
  // SAFETY (all four): `b` was returned by a clone below, so it is the base of
  // a live OwnedWaker (standard layout, base first) and owns one reference.
  static OwnedWaker* self(const FfiWakerBase* b) noexcept {
    return reinterpret_cast<OwnedWaker*>(const_cast<FfiWakerBase*>(b));
  }
  static const FfiWakerBase* clone(const FfiWakerBase* b) noexcept {
    // ORDERING: relaxed, as Arc::clone: the caller already holds a reference,
    // so the object is alive; a new reference needs no synchronization.
    self(b)->refs.fetch_add(1, std::memory_order_relaxed);
    return b;
  }
  static void drop(const FfiWakerBase* b) noexcept {
    OwnedWaker* w = self(b);
    // ORDERING: acquire, as in wake below: a count of 1 means ours is the
    // only reference (no one can clone without holding one), so the object
    // is deleted without a read-modify-write, the common case of a clone
    // that is dropped by the one who made it.
    if (w->refs.load(std::memory_order_acquire) == 1) {
      abort_on_exception("Waker::drop", [w] { delete w; });
      return;
    }
    // ORDERING: release, so this holder's uses of w->waker happen before the
    // delete; the acquire fence makes the last holder see all of them.
    if (w->refs.fetch_sub(1, std::memory_order_release) == 1) {
      std::atomic_thread_fence(std::memory_order_acquire);
      abort_on_exception("Waker::drop", [w] { delete w; });
    }
  }
  static void wake_by_ref(const FfiWakerBase* b) noexcept {
    OwnedWaker* w = self(b);
    abort_on_exception("Waker::wake_by_ref", [w] { w->waker.wake_by_ref(); });
  }
  static void wake(const FfiWakerBase* b) noexcept {
    OwnedWaker* w = self(b);
    // ORDERING: acquire pairs with the release decrements of the other
    // holders: if ours is the only reference left, nobody else can touch
    // w->waker again, so it may be consumed (Arc::try_unwrap's rule).
    if (w->refs.load(std::memory_order_acquire) == 1) {
      abort_on_exception("Waker::wake", [w] {
        Waker waker = std::move(w->waker);
        delete w;
        std::move(waker).wake();
      });
      return;
    }
    wake_by_ref(b);
    drop(b);
  }
  // SAFETY: FfiWakerVTable's members have C language linkage types; these
  // are static member functions (C++ linkage). The conversion is accepted
  // because g++ and clang give C and C++ linkage the same calling convention
  // and do not make linkage part of a function type ([dcl.link] allows an
  // implementation to differ; none we build with does). The functions are
  // noexcept, so nothing unwinds into the C caller.
  static constexpr FfiWakerVTable kTable{&clone, &wake, &wake_by_ref, &drop};
};

struct BorrowedWakerVTable {
  // SAFETY: `b` is the base of the BorrowedWaker that FfiFuture::poll put on
  // its stack; the foreign side may use it only during poll_fn.
  static const BorrowedWaker* self(const FfiWakerBase* b) noexcept {
    return reinterpret_cast<const BorrowedWaker*>(b);
  }
  static const FfiWakerBase* clone(const FfiWakerBase* b) noexcept {
    return abort_on_exception("Waker::clone", [b] {
      auto* owned = new OwnedWaker{{&OwnedWakerVTable::kTable}, {1}, *self(b)->waker};
      return &owned->base;
    });
  }
  static void wake_by_ref(const FfiWakerBase* b) noexcept {
    abort_on_exception("Waker::wake_by_ref", [b] { self(b)->waker->wake_by_ref(); });
  }
  // A borrowed waker must not be woken by value or dropped (the crate aborts
  // too): the caller broke the contract, and continuing would free the stack.
  static void consume(const FfiWakerBase*) noexcept {
    abort_at_boundary("Waker::wake/drop", "called on the borrowed waker of an FfiContext");
  }
  // SAFETY: FfiWakerVTable's members have C language linkage types; these
  // are static member functions (C++ linkage). The conversion is accepted
  // because g++ and clang give C and C++ linkage the same calling convention
  // and do not make linkage part of a function type ([dcl.link] allows an
  // implementation to differ; none we build with does). The functions are
  // noexcept, so nothing unwinds into the C caller.
  static constexpr FfiWakerVTable kTable{&clone, &consume, &wake_by_ref, &consume};
};

// ---- Plugin side: an FfiWakerBase seen as a pollwake Waker -----------------
// (the crate's FfiContext::with_context and RUST_WAKER_VTABLE)

struct ForeignWakerVTable {
  // SAFETY (all four): `data` is an FfiWakerBase* whose vtable was checked
  // non-null when it entered (poll_fn, or clone below); the foreign vtable's
  // functions keep the waker contract (they do not unwind).
  static const FfiWakerBase* base(const void* data) noexcept {
    return static_cast<const FfiWakerBase*>(data);
  }
  static RawWaker clone(const void* data) noexcept {
    const FfiWakerBase* b = base(data);
    const FfiWakerBase* c = b->vtable->clone(b);
    // A foreign clone that returns null, or a waker with a null vtable, broke
    // the waker contract: it cannot be used, woken or even dropped (its drop
    // is in the missing vtable). This clone may run anywhere (inside a poll,
    // or later on any thread that clones a stored Waker), and clone cannot
    // fail, so the process ends with a message, as for a waker function that
    // throws.
    if (c == nullptr) [[unlikely]]
      abort_at_boundary("Waker::clone", "the foreign waker's clone returned null");
    if (c->vtable == nullptr) [[unlikely]]
      abort_at_boundary("Waker::clone", "the foreign waker's clone returned a waker with a null vtable");
    return RawWaker{c, &kTable};
  }
  static void wake(const void* data) noexcept { base(data)->vtable->wake(base(data)); }
  static void wake_by_ref(const void* data) noexcept { base(data)->vtable->wake_by_ref(base(data)); }
  static void drop(const void* data) noexcept { base(data)->vtable->drop(base(data)); }
  static constexpr RawWakerVTable kTable{&clone, &wake, &wake_by_ref, &drop};
};

// A Waker over a borrowed foreign waker: built in place, never destroyed (the
// crate's ManuallyDrop), because the poller owns the foreign waker.
union BorrowedForeignWaker {
  explicit BorrowedForeignWaker(const FfiWakerBase* b)
      : waker(Waker::from_raw(RawWaker{b, &ForeignWakerVTable::kTable})) {}
  ~BorrowedForeignWaker() {}  // deliberately does not run ~Waker
  Waker waker;
};

// The future behind an FfiFuture made by into_ffi: the one allocation.
template <class F>
struct Exported {
  F future;
  bool finished = false;
};

inline void report_panic(const char* what) noexcept {
  std::fprintf(stderr, "pollwake ffi: exception in Future::poll, returned as Panicked: %s\n", what);
}

template <class F>
struct ExportedFns {
  using T = OutputOf<F>;
  using Abi = FfiAbi<T>;
  // [START exported_poll_fn]
  static typename Abi::Poll poll_fn(void* fut_ptr, FfiContext* cx) noexcept {
    auto* e = static_cast<Exported<F>*>(fut_ptr);
    try {
      if (e == nullptr) [[unlikely]] throw FfiError("poll_fn: fut_ptr is null");
      if (cx == nullptr || cx->waker == nullptr) [[unlikely]] throw FfiError("poll_fn: the FfiContext has no waker");
      if (cx->waker->vtable == nullptr) [[unlikely]] throw FfiError("poll_fn: the FfiContext's waker has a null vtable");
      if (e->finished) [[unlikely]] polled_after_completion("into_ffi future");
      BorrowedForeignWaker w(cx->waker);
      Context inner = Context::from_waker(w.waker);
      Poll<T> p = e->future.poll(inner);
      if (p.is_pending()) return Abi::with_tag(FFI_POLL_PENDING);
      e->finished = true;
      return Abi::ready(std::move(p).value());
    } catch (const std::exception& ex) {
      // A future that threw is finished: a re-poll must not run it again.
      if (e != nullptr) e->finished = true;
      report_panic(ex.what());
    } catch (...) {
      if (e != nullptr) e->finished = true;
      report_panic("an exception not derived from std::exception");
    }
    return Abi::with_tag(FFI_POLL_PANICKED);
  }
  // [END exported_poll_fn]
  static void drop_fn(void* fut_ptr) noexcept {
    abort_on_exception("Future::drop", [fut_ptr] { delete static_cast<Exported<F>*>(fut_ptr); });
  }
};

}  // namespace detail

// FfiFuture<T>: owns a future behind the C ABI (FfiFuture_<name>) and is a
// pollwake Future of T. Move-only; the destructor calls drop_fn once.
template <class T>
class FfiFuture {
 public:
  using Output = T;
  using Raw = typename FfiAbi<T>::Future;

  // FfiFuture::from_raw: takes ownership of `raw` (what an extern "C"
  // function returned). A null poll_fn is refused with FfiError after drop_fn
  // (if any) has released the future; a null drop_fn is refused with FfiError
  // and the future is not released (nothing can release it).
  static FfiFuture from_raw(Raw raw) {
    if (raw.drop_fn == nullptr) throw FfiError("FfiFuture::from_raw: drop_fn is null");
    if (raw.poll_fn == nullptr) {
      raw.drop_fn(raw.fut_ptr);
      throw FfiError("FfiFuture::from_raw: poll_fn is null");
    }
    return FfiFuture(raw);
  }

  FfiFuture(FfiFuture&& other) noexcept : raw_(std::exchange(other.raw_, Raw{})), state_(other.state_) {
    other.state_ = State::kFinished;
  }
  FfiFuture& operator=(FfiFuture&& other) noexcept {
    if (this != &other) {
      FfiFuture old(std::move(*this));
      raw_ = std::exchange(other.raw_, Raw{});
      state_ = std::exchange(other.state_, State::kFinished);
    }
    return *this;
  }
  ~FfiFuture() {
    if (raw_.drop_fn != nullptr) raw_.drop_fn(raw_.fut_ptr);
  }

  // FfiFuture::into_raw: gives up ownership, for returning across the ABI.
  Raw into_raw() && {
    state_ = State::kFinished;
    return std::exchange(raw_, Raw{});
  }

  // [START ffi_future_poll]
  // Future::poll: polls the foreign future with a borrowed waker that
  // forwards to cx.waker(). Throws FfiPanicked when it panicked, FfiError on
  // an unknown tag, FuturePolledAfterCompletion after Ready or Panicked.
  Poll<T> poll(Context& cx) {
    if (state_ != State::kRunning) [[unlikely]] polled_after_completion("FfiFuture");
    detail::BorrowedWaker waker{{&detail::BorrowedWakerVTable::kTable}, &cx.waker()};
    FfiContext ffi_cx{&waker.base};
    const typename FfiAbi<T>::Poll p = raw_.poll_fn(raw_.fut_ptr, &ffi_cx);
    if (p.tag == FFI_POLL_READY) [[likely]] {
      state_ = State::kFinished;
      return Ready(FfiAbi<T>::value(p));
    }
    if (p.tag == FFI_POLL_PENDING) return Pending;
    state_ = State::kFinished;
    throw_for_tag(p.tag);  // Panicked, or a tag that is not FfiPoll's
  }
  // [END ffi_future_poll]

  bool is_terminated() const noexcept { return state_ != State::kRunning; }

 private:
  enum class State : uint8_t { kRunning, kFinished };
  explicit FfiFuture(Raw raw) noexcept : raw_(raw) {}
  // Out of line, so that poll stays small enough to be inlined into its
  // caller (an inlined poll returns its Poll in registers).
  [[noreturn]] [[gnu::noinline]] [[gnu::cold]] static void throw_for_tag(uint8_t tag) {
    if (tag == FFI_POLL_PANICKED) throw FfiPanicked();
    throw FfiError("FfiFuture::poll: poll_fn returned the unknown tag " + std::to_string(tag));
  }
  Raw raw_;
  State state_ = State::kRunning;
};

// LocalFfiFuture<T>: the crate's non-Send variant; the same type here.
template <class T>
using LocalFfiFuture = FfiFuture<T>;

// [START into_ffi]
// into_ffi: Rust's FutureExt::into_ffi. Moves the future into one heap
// object and returns it as an FfiFuture. The future may be polled from
// another thread than the one that made it (Rust: Send).
template <class F>
  requires Future<std::decay_t<F>>
FfiFuture<OutputOf<std::decay_t<F>>> into_ffi(F&& future) {
  using Fns = detail::ExportedFns<std::decay_t<F>>;
  auto* exported = new detail::Exported<std::decay_t<F>>{std::forward<F>(future)};
  // SAFETY: poll_fn and drop_fn are static member functions (C++ linkage)
  // stored in FfiFuture_*'s C-linkage function pointers; g++ and clang use one
  // calling convention for both linkages and do not distinguish them in the
  // type, and both functions are noexcept.
  return FfiFuture<OutputOf<std::decay_t<F>>>::from_raw({exported, &Fns::poll_fn, &Fns::drop_fn});
}
// [END into_ffi]

// into_local_ffi: Rust's FutureExt::into_local_ffi (no Send promise).
template <class F>
  requires Future<std::decay_t<F>>
LocalFfiFuture<OutputOf<std::decay_t<F>>> into_local_ffi(F&& future) {
  return into_ffi(std::forward<F>(future));
}

}  // namespace pollwake::ffi

#endif  // POLLWAKE_INTEROP_FFI_FFI_FUTURE_H_
