// tests/ffi/ffi_death_test.cc: an exception that reaches a function which
// must not fail (a future's destructor, a waker function called through the
// C vtable), or a borrowed waker woken by value, ends the process with a
// message naming where (the async-ffi crate aborts in the same places).
#include <atomic>
#include <cstdint>
#include <stdexcept>

#include <gtest/gtest.h>

#include "interop/ffi/ffi_future.h"
#include "poll/context.h"
#include "poll/poll.h"
#include "poll/raw_waker.h"
#include "poll/waker.h"
#include "poll/waker_fn.h"

namespace pollwake::ffi {
namespace {

struct ThrowsInDestructor {
  using Output = uint32_t;
  bool armed = false;
  ThrowsInDestructor() = default;
  ThrowsInDestructor(ThrowsInDestructor&& o) noexcept : armed(std::exchange(o.armed, false)) {}
  ~ThrowsInDestructor() noexcept(false) {
    if (armed) throw std::runtime_error("destructor threw");
  }
  Poll<uint32_t> poll(Context&) {
    armed = true;
    return Pending;
  }
};

TEST(FfiDeathTest, ExceptionInFutureDropAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        FfiFuture<uint32_t> f = into_ffi(ThrowsInDestructor{});
        Context cx = Context::from_waker(Waker::noop());
        (void)f.poll(cx);
      },
      "abort due to an exception across the FFI boundary in Future::drop: destructor threw");
}

// A C-ABI future that calls wake_by_ref (or, wrongly, drop) on the borrowed
// waker during poll.
FfiPoll_u32 wakes_by_ref(void*, FfiContext* cx) {
  cx->waker->vtable->wake_by_ref(cx->waker);
  return FfiPoll_u32{FFI_POLL_PENDING, 0};
}
FfiPoll_u32 drops_borrowed(void*, FfiContext* cx) {
  cx->waker->vtable->drop(cx->waker);
  return FfiPoll_u32{FFI_POLL_PENDING, 0};
}
void nothing(void*) {}

TEST(FfiDeathTest, ExceptionInWakeByRefAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Waker w = waker_fn([] { throw std::runtime_error("waker threw"); });
        Context cx = Context::from_waker(w);
        FfiFuture<uint32_t> f = FfiFuture<uint32_t>::from_raw({nullptr, &wakes_by_ref, &nothing});
        (void)f.poll(cx);
      },
      // pollwake's Waker stops the process first (its one rule for a waker that
      // throws, poll/raw_waker.h); the FFI boundary's own abort is the backstop.
      "abort due to an exception across the FFI boundary in Waker::wake_by_ref: waker threw|"
      "a waker broke its contract: RawWakerVTable::wake_by_ref threw: waker threw");
}

TEST(FfiDeathTest, DroppingTheBorrowedWakerAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Context cx = Context::from_waker(Waker::noop());
        FfiFuture<uint32_t> f = FfiFuture<uint32_t>::from_raw({nullptr, &drops_borrowed, &nothing});
        (void)f.poll(cx);
      },
      "called on the borrowed waker of an FfiContext");
}

// C-ABI futures that use an owned clone of the borrowed waker during poll.
// The clone is an OwnedWaker: one reference wakes by value on the fast path
// (the pollwake Waker is moved out), two references on the slow path
// (wake_by_ref, then drop).
FfiPoll_u32 clone_then_wake(void*, FfiContext* cx) {
  const FfiWakerBase* c = cx->waker->vtable->clone(cx->waker);
  c->vtable->wake(c);
  return FfiPoll_u32{FFI_POLL_PENDING, 0};
}
FfiPoll_u32 clone_twice_then_wake(void*, FfiContext* cx) {
  const FfiWakerBase* c = cx->waker->vtable->clone(cx->waker);
  const FfiWakerBase* c2 = c->vtable->clone(c);
  c->vtable->wake(c);
  c2->vtable->drop(c2);
  return FfiPoll_u32{FFI_POLL_PENDING, 0};
}
FfiPoll_u32 clone_then_wake_by_ref(void*, FfiContext* cx) {
  const FfiWakerBase* c = cx->waker->vtable->clone(cx->waker);
  c->vtable->wake_by_ref(c);
  c->vtable->drop(c);
  return FfiPoll_u32{FFI_POLL_PENDING, 0};
}
FfiPoll_u32 clones_borrowed(void*, FfiContext* cx) {
  const FfiWakerBase* c = cx->waker->vtable->clone(cx->waker);
  c->vtable->drop(c);
  return FfiPoll_u32{FFI_POLL_PENDING, 0};
}

// Polls a C-ABI future with `poll_fn` under a waker whose wake throws `what`.
void poll_under_throwing_waker(FfiPoll_u32 (*poll_fn)(void*, FfiContext*), const char* what) {
  Waker w = waker_fn([what] { throw std::runtime_error(what); });
  Context cx = Context::from_waker(w);
  FfiFuture<uint32_t> f = FfiFuture<uint32_t>::from_raw({nullptr, poll_fn, &nothing});
  (void)f.poll(cx);
}

// Each regex accepts the bridge's message, and also just the exception's
// what(): pollwake's Waker may itself call vtable functions through a
// noexcept boundary that ends the process first, with its own message that
// names what() (either way the process ends and says why).
TEST(FfiDeathTest, ExceptionInOwnedCloneWakeFastPathAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(poll_under_throwing_waker(&clone_then_wake, "fast wake threw"),
               "FFI boundary in Waker::wake: fast wake threw|fast wake threw");
}

TEST(FfiDeathTest, ExceptionInOwnedCloneWakeSlowPathAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  // The slow path wakes by reference, then drops its reference.
  EXPECT_DEATH(poll_under_throwing_waker(&clone_twice_then_wake, "slow wake threw"),
               "FFI boundary in Waker::wake_by_ref: slow wake threw|slow wake threw");
}

TEST(FfiDeathTest, ExceptionInOwnedCloneWakeByRefAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(poll_under_throwing_waker(&clone_then_wake_by_ref, "owned wake_by_ref threw"),
               "FFI boundary in Waker::wake_by_ref: owned wake_by_ref threw|owned wake_by_ref threw");
}

// A pollwake waker whose clone throws (the vtable's function pointers are not
// noexcept, so a RawWakerVTable may hold a throwing function).
RawWaker throwing_clone(const void*) { throw std::runtime_error("clone threw"); }
void no_op(const void*) {}
constexpr RawWakerVTable kThrowingCloneTable{&throwing_clone, &no_op, &no_op, &no_op};

TEST(FfiDeathTest, ExceptionInPollwakeWakerCloneAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Waker w = Waker::from_raw(RawWaker{nullptr, &kThrowingCloneTable});
        Context cx = Context::from_waker(w);
        FfiFuture<uint32_t> f = FfiFuture<uint32_t>::from_raw({nullptr, &clones_borrowed, &nothing});
        (void)f.poll(cx);
      },
      "FFI boundary in Waker::clone: clone threw|clone threw");
}

// A foreign waker whose clone returns a waker with a null vtable (or null):
// the clone cannot be used or dropped, so the bridge ends the process.
const FfiWakerBase kBrokenClone{nullptr};
const FfiWakerBase* broken_clone(const FfiWakerBase*) { return &kBrokenClone; }
const FfiWakerBase* null_clone(const FfiWakerBase*) { return nullptr; }
void ffi_no_op(const FfiWakerBase*) {}
constexpr FfiWakerVTable kBrokenCloneTable{&broken_clone, &ffi_no_op, &ffi_no_op, &ffi_no_op};
constexpr FfiWakerVTable kNullCloneTable{&null_clone, &ffi_no_op, &ffi_no_op, &ffi_no_op};

// A pollwake future that clones its (foreign) waker.
struct ClonesWaker {
  using Output = uint32_t;
  Poll<uint32_t> poll(Context& cx) {
    Waker clone = cx.waker();
    return Pending;
  }
};

TEST(FfiDeathTest, ForeignCloneWithNullVtableAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        FfiFuture_u32 raw = into_ffi(ClonesWaker{}).into_raw();
        FfiWakerBase foreign{&kBrokenCloneTable};
        FfiContext cx{&foreign};
        (void)raw.poll_fn(raw.fut_ptr, &cx);
      },
      "FFI boundary in Waker::clone: the foreign waker's clone returned a waker with a null vtable");
}

TEST(FfiDeathTest, ForeignCloneReturningNullAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        FfiFuture_u32 raw = into_ffi(ClonesWaker{}).into_raw();
        FfiWakerBase foreign{&kNullCloneTable};
        FfiContext cx{&foreign};
        (void)raw.poll_fn(raw.fut_ptr, &cx);
      },
      "FFI boundary in Waker::clone: the foreign waker's clone returned null");
}

}  // namespace
}  // namespace pollwake::ffi
