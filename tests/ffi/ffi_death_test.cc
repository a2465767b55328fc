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
      "abort due to an exception across the FFI boundary in Waker::wake_by_ref: waker threw");
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

}  // namespace
}  // namespace pollwake::ffi
