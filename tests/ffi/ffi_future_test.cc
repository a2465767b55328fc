// tests/ffi/ffi_future_test.cc: FfiFuture<T>, into_ffi and the waker bridges
// within one process, through the C ABI of async_ffi.h, and bad input.
#include "interop/ffi/ffi_future.h"

#include <atomic>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "poll/context.h"
#include "poll/poll.h"
#include "poll/ready.h"
#include "poll/waker.h"
#include "poll/waker_fn.h"
#include "tests/ffi/ffi_test_util.h"

namespace pollwake::ffi {
namespace {

using testing::CountingFfiWaker;
using ::testing::HasSubstr;

// Pending on its first poll (keeping a clone of the waker), Ready(value)
// after that. Counts its own destruction.
struct PendingOnce {
  using Output = uint32_t;
  uint32_t value;
  std::optional<Waker>* stored;
  int* destroyed = nullptr;
  bool polled = false;
  PendingOnce(uint32_t v, std::optional<Waker>* s, int* d = nullptr) : value(v), stored(s), destroyed(d) {}
  PendingOnce(PendingOnce&& o) noexcept
      : value(o.value), stored(o.stored), destroyed(std::exchange(o.destroyed, nullptr)), polled(o.polled) {}
  ~PendingOnce() {
    if (destroyed != nullptr) ++*destroyed;
  }
  Poll<uint32_t> poll(Context& cx) {
    if (polled) return Ready(value);
    polled = true;
    stored->emplace(cx.waker());
    return Pending;
  }
};

struct Throwing {
  using Output = uint32_t;
  Poll<uint32_t> poll(Context&) { throw std::runtime_error("boom from Throwing"); }
};

// A pollwake waker that counts its wakes.
Waker counting_waker(std::atomic<int>* wakes) {
  return waker_fn([wakes] { wakes->fetch_add(1); });
}

TEST(FfiFutureTest, ReadyValueCrossesTheAbi) {
  FfiFuture<uint32_t> f = into_ffi(ready(uint32_t{7}));
  Context cx = Context::from_waker(Waker::noop());
  Poll<uint32_t> p = f.poll(cx);
  ASSERT_TRUE(p.is_ready());
  EXPECT_EQ(p.value(), 7u);
  EXPECT_TRUE(f.is_terminated());
}

TEST(FfiFutureTest, EveryShippedPayloadRoundTrips) {
  Context cx = Context::from_waker(Waker::noop());
  FfiFuture<uint64_t> big = into_ffi(ready(uint64_t{1} << 40));
  EXPECT_EQ(big.poll(cx).value(), uint64_t{1} << 40);
  int x = 0;
  FfiFuture<void*> ptr = into_ffi(ready(static_cast<void*>(&x)));
  EXPECT_EQ(ptr.poll(cx).value(), &x);
  FfiFuture<Unit> unit = into_ffi(ready(Unit{}));
  EXPECT_TRUE(unit.poll(cx).is_ready());
}

TEST(FfiFutureTest, PendingThenWakeThroughTheBridgeThenReady) {
  std::optional<Waker> stored;
  std::atomic<int> wakes{0};
  Waker w = counting_waker(&wakes);
  Context cx = Context::from_waker(w);
  FfiFuture<uint32_t> f = into_ffi(PendingOnce(5, &stored));
  EXPECT_TRUE(f.poll(cx).is_pending());
  ASSERT_TRUE(stored.has_value());
  stored->wake_by_ref();
  EXPECT_EQ(wakes.load(), 1);
  std::move(*stored).wake();
  EXPECT_EQ(wakes.load(), 2);
  stored.reset();
  EXPECT_EQ(f.poll(cx).value(), 5u);
}

TEST(FfiFutureTest, DropReleasesTheFutureOnceAndMoveTransfersIt) {
  std::optional<Waker> stored;
  int destroyed = 0;
  {
    FfiFuture<uint32_t> f = into_ffi(PendingOnce(1, &stored, &destroyed));
    FfiFuture<uint32_t> g = std::move(f);
    EXPECT_EQ(destroyed, 0);
  }
  EXPECT_EQ(destroyed, 1);
}

TEST(FfiFutureTest, ExceptionInPollBecomesPanickedThenFfiPanicked) {
  FfiFuture<uint32_t> f = into_ffi(Throwing{});
  Context cx = Context::from_waker(Waker::noop());
  ::testing::internal::CaptureStderr();
  EXPECT_THROW((void)f.poll(cx), FfiPanicked);
  EXPECT_THAT(::testing::internal::GetCapturedStderr(), HasSubstr("boom from Throwing"));
  // Finished after Panicked: no second crossing.
  EXPECT_THROW((void)f.poll(cx), FuturePolledAfterCompletion);
}

TEST(FfiFutureTest, PollAfterReadyThrows) {
  FfiFuture<uint32_t> f = into_ffi(ready(uint32_t{1}));
  Context cx = Context::from_waker(Waker::noop());
  EXPECT_TRUE(f.poll(cx).is_ready());
  EXPECT_THROW((void)f.poll(cx), FuturePolledAfterCompletion);
}

TEST(FfiFutureTest, ForeignPollAfterReadyAnswersPanicked) {
  FfiFuture_u32 raw = into_ffi(ready(uint32_t{3})).into_raw();
  CountingFfiWaker* w = CountingFfiWaker::make();
  FfiContext cx = w->context();
  EXPECT_EQ(raw.poll_fn(raw.fut_ptr, &cx).tag, FFI_POLL_READY);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(raw.poll_fn(raw.fut_ptr, &cx).tag, FFI_POLL_PANICKED);
  EXPECT_THAT(::testing::internal::GetCapturedStderr(), HasSubstr("polled after completion"));
  raw.drop_fn(raw.fut_ptr);
  w->release();
}

// Throws on every poll and counts how often it was run.
struct ThrowingCounted {
  using Output = uint32_t;
  int* polls;
  Poll<uint32_t> poll(Context&) {
    ++*polls;
    throw std::runtime_error("boom from ThrowingCounted");
  }
};

TEST(FfiFutureTest, ForeignPollAfterPanickedAnswersPanicked) {
  int polls = 0;
  FfiFuture_u32 raw = into_ffi(ThrowingCounted{&polls}).into_raw();
  CountingFfiWaker* w = CountingFfiWaker::make();
  FfiContext cx = w->context();
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(raw.poll_fn(raw.fut_ptr, &cx).tag, FFI_POLL_PANICKED);
  EXPECT_EQ(raw.poll_fn(raw.fut_ptr, &cx).tag, FFI_POLL_PANICKED);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, HasSubstr("boom from ThrowingCounted"));
  EXPECT_THAT(err, HasSubstr("polled after completion"));
  EXPECT_EQ(polls, 1);  // the re-poll did not run the future that threw
  raw.drop_fn(raw.fut_ptr);
  w->release();
}

// ---- bad input --------------------------------------------------------------

int g_raw_drops = 0;
void counting_drop(void* p) {
  ++g_raw_drops;
  delete static_cast<int*>(p);
}
FfiPoll_u32 answer_tag_7(void*, FfiContext*) { return FfiPoll_u32{7, 0}; }

TEST(FfiFutureTest, NullPollFnIsRefusedAndTheFutureReleased) {
  g_raw_drops = 0;
  FfiFuture_u32 raw{new int(1), nullptr, &counting_drop};
  try {
    FfiFuture<uint32_t>::from_raw(raw);
    FAIL() << "from_raw accepted a null poll_fn";
  } catch (const FfiError& e) {
    EXPECT_THAT(e.what(), HasSubstr("poll_fn is null"));
  }
  EXPECT_EQ(g_raw_drops, 1);
}

TEST(FfiFutureTest, NullDropFnIsRefused) {
  int value = 0;  // owned here: a future without drop_fn cannot be released
  FfiFuture_u32 raw{&value, &answer_tag_7, nullptr};
  try {
    FfiFuture<uint32_t>::from_raw(raw);
    FAIL() << "from_raw accepted a null drop_fn";
  } catch (const FfiError& e) {
    EXPECT_THAT(e.what(), HasSubstr("drop_fn is null"));
  }
}

TEST(FfiFutureTest, UnknownTagThrowsFfiError) {
  g_raw_drops = 0;
  {
    FfiFuture<uint32_t> f = FfiFuture<uint32_t>::from_raw({new int(1), &answer_tag_7, &counting_drop});
    Context cx = Context::from_waker(Waker::noop());
    try {
      (void)f.poll(cx);
      FAIL() << "an unknown tag was accepted";
    } catch (const FfiError& e) {
      EXPECT_THAT(e.what(), HasSubstr("unknown tag 7"));
    }
  }
  EXPECT_EQ(g_raw_drops, 1);
}

TEST(FfiFutureTest, NullVtableWakerAnswersPanickedNamingIt) {
  FfiFuture_u32 raw = into_ffi(ready(uint32_t{3})).into_raw();
  FfiWakerBase broken{nullptr};
  FfiContext cx{&broken};
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(raw.poll_fn(raw.fut_ptr, &cx).tag, FFI_POLL_PANICKED);
  EXPECT_THAT(::testing::internal::GetCapturedStderr(), HasSubstr("null vtable"));
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(raw.poll_fn(raw.fut_ptr, nullptr).tag, FFI_POLL_PANICKED);
  EXPECT_THAT(::testing::internal::GetCapturedStderr(), HasSubstr("has no waker"));
  raw.drop_fn(raw.fut_ptr);
}

// ---- wakers ----------------------------------------------------------------

// A future written against the C ABI only (as a C or Rust plugin would be):
// clones the borrowed waker twice, keeps both clones.
struct CloningRaw {
  const FfiWakerBase* first = nullptr;
  const FfiWakerBase* second = nullptr;
};
FfiPoll_u32 cloning_poll(void* p, FfiContext* cx) {
  auto* self = static_cast<CloningRaw*>(p);
  const FfiWakerBase* borrowed = cx->waker;
  self->first = borrowed->vtable->clone(borrowed);
  self->second = self->first->vtable->clone(self->first);
  return FfiPoll_u32{FFI_POLL_PENDING, 0};
}
void cloning_drop(void*) {}

TEST(FfiWakerTest, FirstCloneAllocatesOnceAndLaterClonesShareIt) {
  CloningRaw state;
  std::atomic<int> wakes{0};
  Waker w = counting_waker(&wakes);
  Context cx = Context::from_waker(w);
  FfiFuture<uint32_t> f = FfiFuture<uint32_t>::from_raw({&state, &cloning_poll, &cloning_drop});
  EXPECT_TRUE(f.poll(cx).is_pending());
  // The borrowed waker lived on poll's stack; the clone is a heap object, and
  // its clone is the same object (a reference count, no second allocation).
  ASSERT_NE(state.first, nullptr);
  EXPECT_EQ(state.first, state.second);
  state.first->vtable->wake_by_ref(state.first);
  EXPECT_EQ(wakes.load(), 1);
  state.first->vtable->wake(state.first);  // consumes one reference
  EXPECT_EQ(wakes.load(), 2);
  state.second->vtable->wake(state.second);  // the last: consumes the Waker
  EXPECT_EQ(wakes.load(), 3);
  // ASan: nothing leaked, nothing freed twice.
}

// A pollwake future that keeps clones of its (foreign) waker.
struct KeepsWaker {
  using Output = Unit;
  std::optional<Waker>* stored;
  Poll<Unit> poll(Context& cx) {
    stored->emplace(cx.waker());
    Waker second = *stored->operator->();  // a clone of the clone
    return Pending;
  }
};

TEST(FfiWakerTest, ForeignWakerClonesAndDropsForwardToTheForeignVtable) {
  std::optional<Waker> stored;
  CountingFfiWaker* w = CountingFfiWaker::make();
  FfiFuture_unit raw = into_ffi(KeepsWaker{&stored}).into_raw();
  FfiContext cx = w->context();
  EXPECT_EQ(raw.poll_fn(raw.fut_ptr, &cx).tag, FFI_POLL_PENDING);
  EXPECT_EQ(w->clones(), 2);
  EXPECT_EQ(w->drops(), 1);  // the clone of the clone
  EXPECT_EQ(w->refs(), 2u);  // the caller's and `stored`
  std::move(*stored).wake();
  EXPECT_EQ(w->wakes(), 1);
  EXPECT_EQ(w->refs(), 1u);
  raw.drop_fn(raw.fut_ptr);
  w->release();
}

// The foreign clone returns a waker with a null vtable: refused, Panicked.
}  // namespace
}  // namespace pollwake::ffi
