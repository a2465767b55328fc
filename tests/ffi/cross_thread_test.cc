// tests/ffi/cross_thread_test.cc: wakes that cross the C ABI from another
// thread, both ways, repeated. A lost wake fails through a deadline.
//   * pollwake polls a future written against the C ABI alone; a thread of
//     that future's clones the borrowed waker (through the C vtable) and
//     wakes it.
//   * A foreign executor (CountingFfiWaker: C ABI only) polls a pollwake
//     future exported by into_ffi; a pollwake thread wakes it.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <utility>

#include <gtest/gtest.h>

#include "executor/block_on.h"
#include "interop/ffi/ffi_future.h"
#include "poll/context.h"
#include "poll/oneshot.h"
#include "poll/waker.h"
#include "poll/waker_fn.h"
#include "tests/ffi/ffi_test_util.h"

namespace pollwake::ffi {
namespace {

using testing::CountingFfiWaker;
using testing::kLostWakeDeadline;
using testing::Watchdog;

constexpr int kRounds = 200;

// A future in "C": on its first poll it clones the borrowed waker and hands
// the clone to a thread, which publishes the result and wakes it.
struct CFuture {
  explicit CFuture(uint32_t v) : value(v) {}
  uint32_t value;
  std::atomic<bool> done{false};
  std::thread thread;
};
FfiPoll_u32 c_poll(void* p, FfiContext* cx) {
  auto* f = static_cast<CFuture*>(p);
  // ORDERING: acquire pairs with the thread's release store: the value it
  // wrote before is visible here.
  if (f->done.load(std::memory_order_acquire)) return FfiPoll_u32{FFI_POLL_READY, f->value + 1};
  if (!f->thread.joinable()) {
    const FfiWakerBase* clone = cx->waker->vtable->clone(cx->waker);
    f->thread = std::thread([f, clone] {
      f->value *= 2;
      // ORDERING: release, so the poll that sees done also sees value.
      f->done.store(true, std::memory_order_release);
      clone->vtable->wake(clone);
    });
  }
  return FfiPoll_u32{FFI_POLL_PENDING, 0};
}
void c_drop(void* p) {
  auto* f = static_cast<CFuture*>(p);
  if (f->thread.joinable()) f->thread.join();
  delete f;
}

TEST(FfiCrossThreadTest, ForeignFutureWokenFromItsThreadUnderBlockOn) {
  Watchdog dog("block_on of a C-ABI future woken from another thread");
  for (int i = 0; i < kRounds; ++i) {
    auto* state = new CFuture(static_cast<uint32_t>(i));
    FfiFuture<uint32_t> f = FfiFuture<uint32_t>::from_raw({state, &c_poll, &c_drop});
    ASSERT_EQ(block_on(std::move(f)), static_cast<uint32_t>(2 * i + 1)) << "round " << i;
  }
}

TEST(FfiCrossThreadTest, ForeignFutureWokenFromItsThreadCountsEveryWake) {
  std::mutex mu;
  std::condition_variable cv;
  int wakes = 0;  // under mu
  Waker w = waker_fn([&] {
    std::lock_guard<std::mutex> lock(mu);
    ++wakes;
    cv.notify_all();
  });
  Context cx = Context::from_waker(w);
  for (int i = 0; i < kRounds; ++i) {
    FfiFuture<uint32_t> f = FfiFuture<uint32_t>::from_raw({new CFuture(1), &c_poll, &c_drop});
    ASSERT_TRUE(f.poll(cx).is_pending());
    {
      std::unique_lock<std::mutex> lock(mu);
      ASSERT_TRUE(cv.wait_for(lock, kLostWakeDeadline, [&] { return wakes == i + 1; }))
          << "round " << i << ": the wake from the future's thread was lost";
    }
    ASSERT_EQ(f.poll(cx).value(), 3u);
  }
}

TEST(FfiCrossThreadTest, PollwakeFutureWokenFromAnotherThreadUnderAForeignExecutor) {
  CountingFfiWaker* foreign = CountingFfiWaker::make();
  for (int i = 0; i < kRounds; ++i) {
    auto [tx, rx] = oneshot::channel<uint32_t>();
    // The exported future: the receiver, its Result mapped to a number.
    struct Receive {
      using Output = uint32_t;
      oneshot::Receiver<uint32_t> rx;
      Poll<uint32_t> poll(Context& cx) {
        auto p = rx.poll(cx);
        if (p.is_pending()) return Pending;
        auto r = std::move(p).value();
        return Ready(r.is_ok() ? r.value() : 0u);
      }
    };
    FfiFuture_u32 raw = into_ffi(Receive{std::move(rx)}).into_raw();
    FfiContext cx = foreign->context();
    FfiPoll_u32 first = raw.poll_fn(raw.fut_ptr, &cx);
    std::thread sender([tx = std::move(tx), i]() mutable { (void)tx.send(static_cast<uint32_t>(i + 100)); });
    FfiPoll_u32 p = first;
    while (p.tag == FFI_POLL_PENDING) {
      if (!foreign->wait_for_wake()) {
        sender.join();
        raw.drop_fn(raw.fut_ptr);
        foreign->release();
        FAIL() << "round " << i << ": the wake from the sending thread was lost";
      }
      p = raw.poll_fn(raw.fut_ptr, &cx);
    }
    sender.join();
    ASSERT_EQ(p.tag, FFI_POLL_READY);
    EXPECT_EQ(p.ready, static_cast<uint32_t>(i + 100));
    raw.drop_fn(raw.fut_ptr);
  }
  foreign->release();
}

}  // namespace
}  // namespace pollwake::ffi
