// tests/future/test_util.h: fixtures shared by the tests of poll/'s
// combinators, channels, AtomicWaker and timers. They drive futures by hand
// (no executor): a counting waker, a parking waker for cross-thread tests
// with a bounded wait, a future completed by the test, and a value that
// counts its destructions.
#ifndef POLLWAKE_TESTS_FUTURE_TEST_UTIL_H_
#define POLLWAKE_TESTS_FUTURE_TEST_UTIL_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "poll/arc.h"
#include "poll/context.h"
#include "poll/future.h"
#include "poll/poll.h"
#include "poll/raw_waker.h"
#include "poll/wake.h"
#include "poll/waker.h"

namespace pollwake::testing {

// CountingWaker: a waker whose four vtable functions only count. The
// CountingWaker object must outlive every clone (single-threaded tests keep
// it on the stack). `waker()` is the root waker, owned by the fixture; it is
// not counted as a clone, and its drop is not counted either.
class CountingWaker {
 public:
  CountingWaker() : root_(Waker::from_raw(RawWaker{this, &kTable})) {}
  ~CountingWaker() { std::move(root_).into_raw(); }  // the root is not dropped
  CountingWaker(const CountingWaker&) = delete;
  CountingWaker& operator=(const CountingWaker&) = delete;

  const Waker& waker() const { return root_; }

  int clones() const { return clones_.load(); }
  int drops() const { return drops_.load(); }
  int wakes() const { return wakes_.load(); }                // consuming wake()
  int wake_by_refs() const { return wake_by_refs_.load(); }  // wake_by_ref()
  int woken() const { return wakes() + wake_by_refs(); }     // either kind
  // Clones still alive (each clone ends by drop or by a consuming wake).
  int live_clones() const { return clones() - drops() - wakes(); }

 private:
  static CountingWaker* self(const void* p) {
    return static_cast<CountingWaker*>(const_cast<void*>(p));
  }
  static RawWaker clone_fn(const void* p) {
    ++self(p)->clones_;
    return RawWaker{p, &kTable};
  }
  static void wake_fn(const void* p) { ++self(p)->wakes_; }
  static void wake_by_ref_fn(const void* p) { ++self(p)->wake_by_refs_; }
  static void drop_fn(const void* p) { ++self(p)->drops_; }
  static const RawWakerVTable kTable;

  std::atomic<int> clones_{0}, drops_{0}, wakes_{0}, wake_by_refs_{0};
  Waker root_;
};

inline const RawWakerVTable CountingWaker::kTable{&clone_fn, &wake_fn, &wake_by_ref_fn,
                                                 &drop_fn};

// poll_once(f, w): one poll of `f` with waker `w`.
template <Future F>
Poll<OutputOf<F>> poll_once(F& f, const Waker& w) {
  Context cx = Context::from_waker(w);
  return f.poll(cx);
}

// Parker: an Arc-owned waker target for cross-thread tests. wake_by_ref sets
// a flag and notifies; wait_for consumes the flag, waiting at most `limit`.
struct Parker {
  mutable std::mutex mu;
  mutable std::condition_variable cv;
  mutable bool notified = false;  // written under mu
  mutable std::atomic<int> wakes{0};

  void wake_by_ref() const {
    ++wakes;
    {
      std::lock_guard lock(mu);
      notified = true;
    }
    cv.notify_one();
  }
  // True if woken (now or earlier); false if `limit` passed without a wake.
  bool wait_for(std::chrono::milliseconds limit) {
    std::unique_lock lock(mu);
    bool ok = cv.wait_for(lock, limit, [this] { return notified; });
    notified = false;
    return ok;
  }
};

inline constexpr std::chrono::milliseconds kLostWakeupLimit{20000};

// block_on_for(f): polls `f` until Ready, parking between polls; returns
// nullopt if a Pending poll is not followed by a wake within `limit` (a lost
// wakeup: the caller FAILs). A tiny stand-in for executor/'s block_on.
template <Future F>
std::optional<OutputOf<F>> block_on_for(F& f,
                                        std::chrono::milliseconds limit = kLostWakeupLimit) {
  Arc<Parker> parker = Arc<Parker>::make();
  Waker w = waker_from(parker);
  for (;;) {
    Context cx = Context::from_waker(w);
    Poll<OutputOf<F>> p = f.poll(cx);
    if (p.is_ready()) return std::optional<OutputOf<F>>(std::move(p).value());
    if (!parker->wait_for(limit)) return std::nullopt;
  }
}

// ManualFuture<T>: Pending until the test calls complete(v), which stores the
// value and wakes the waker of the latest poll. Counts polls and drops; a
// moved-from ManualFuture is not counted when destroyed.
template <class T>
struct ManualState {
  std::optional<T> value;
  std::optional<Waker> waker;  // the latest poll's waker
  int polls = 0;
  int drops = 0;
  bool returned_ready = false;

  void complete(T v) {
    value.emplace(std::move(v));
    if (!waker) return;
    Waker w = std::move(*waker);
    waker.reset();
    std::move(w).wake();
  }
};

template <class T>
class ManualFuture {
 public:
  using Output = T;
  explicit ManualFuture(std::shared_ptr<ManualState<T>> s) : s_(std::move(s)) {}
  ManualFuture(ManualFuture&& o) noexcept : s_(std::move(o.s_)) {}
  // Dropped: counts, and releases the stored waker, as a leaf future that
  // deregisters itself would.
  ~ManualFuture() {
    if (!s_) return;
    ++s_->drops;
    s_->waker.reset();
  }
  Poll<T> poll(Context& cx) {
    ++s_->polls;
    if (s_->returned_ready) polled_after_completion("ManualFuture");
    if (s_->value) {
      s_->returned_ready = true;
      T v = std::move(*s_->value);
      s_->value.reset();
      return Ready(std::move(v));
    }
    if (s_->waker) {
      s_->waker->clone_from(cx.waker());
    } else {
      s_->waker.emplace(cx.waker());
    }
    return Pending;
  }

 private:
  std::shared_ptr<ManualState<T>> s_;
};

// manual<T>(): a ManualFuture and the state the test keeps to drive it.
template <class T>
std::pair<ManualFuture<T>, std::shared_ptr<ManualState<T>>> manual() {
  auto s = std::make_shared<ManualState<T>>();
  return {ManualFuture<T>(s), s};
}

// Tracked: a move-only value that counts its destructions into an atomic
// counter (a moved-from Tracked does not count).
struct Tracked {
  Tracked(std::atomic<int>* drops, int v) : drops(drops), value(v) {}
  Tracked(Tracked&& o) noexcept : drops(std::exchange(o.drops, nullptr)), value(o.value) {}
  Tracked& operator=(Tracked&& o) noexcept {
    if (this != &o) {
      if (drops) ++*drops;
      drops = std::exchange(o.drops, nullptr);
      value = o.value;
    }
    return *this;
  }
  ~Tracked() {
    if (drops) ++*drops;
  }
  std::atomic<int>* drops;
  int value;
};

}  // namespace pollwake::testing

#endif  // POLLWAKE_TESTS_FUTURE_TEST_UTIL_H_
