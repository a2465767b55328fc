// tests/future/test_util.h: ManualFuture, the future the tests of poll/'s
// combinators complete by hand, single-threaded. Everything else they share
// with the other tests comes from tests/support/.
#ifndef POLLWAKE_TESTS_FUTURE_TEST_UTIL_H_
#define POLLWAKE_TESTS_FUTURE_TEST_UTIL_H_

#include <memory>
#include <optional>
#include <utility>

#include "poll/context.h"
#include "poll/latest_waker.h"
#include "poll/poll.h"
#include "tests/support/counting_waker.h"
#include "tests/support/drive.h"
#include "tests/support/drop_counter.h"

namespace pollwake::testing {

// ManualFuture<T>: Pending until the test calls complete(v), which stores the
// value and wakes the waker of the latest poll. Counts polls and drops; a
// moved-from ManualFuture is not counted when destroyed.
template <class T>
struct ManualState {
  std::optional<T> value;
  LatestWaker waker;  // the latest poll's waker
  int polls = 0;
  int drops = 0;
  bool returned_ready = false;

  void complete(T v) {
    value.emplace(std::move(v));
    waker.take().wake();
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
    (void)s_->waker.take();
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
    s_->waker.update(cx.waker());
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

}  // namespace pollwake::testing

#endif  // POLLWAKE_TESTS_FUTURE_TEST_UTIL_H_
