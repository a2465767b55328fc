// tests/support/drop_counter.h: values that count their destructions, so a
// test can check that everything it made was destroyed exactly once.
//
//   DropCounter  put one in a future (or a closure) to count how often that
//                future is destroyed; a moved-from one does not count.
//   Tracked      a message or output value: counts live instances (live(),
//                across the process, for channel stress tests that end with
//                live() == 0) and, if given a counter, the destructions of
//                the value it carries (a moved-from Tracked does not count).
#ifndef POLLWAKE_TESTS_SUPPORT_DROP_COUNTER_H_
#define POLLWAKE_TESTS_SUPPORT_DROP_COUNTER_H_

#include <atomic>
#include <utility>

namespace pollwake::testing {

class DropCounter {
 public:
  explicit DropCounter(std::atomic<int>& drops) : drops_(&drops) {}
  explicit DropCounter(std::atomic<int>* drops) : drops_(drops) {}
  DropCounter(DropCounter&& other) noexcept : drops_(std::exchange(other.drops_, nullptr)) {}
  DropCounter& operator=(DropCounter&&) = delete;
  ~DropCounter() {
    if (drops_ != nullptr) drops_->fetch_add(1);
  }

 private:
  std::atomic<int>* drops_;
};

class Tracked {
 public:
  explicit Tracked(int v, std::atomic<int>* drops = nullptr) : v_(v), drops_(drops) {
    live_.fetch_add(1);
  }
  Tracked(const Tracked& o) : v_(o.v_), drops_(o.drops_) { live_.fetch_add(1); }
  Tracked(Tracked&& o) noexcept : v_(o.v_), drops_(std::exchange(o.drops_, nullptr)) {
    live_.fetch_add(1);
  }
  Tracked& operator=(const Tracked& o) {
    if (this != &o) *this = Tracked(o);
    return *this;
  }
  Tracked& operator=(Tracked&& o) noexcept {
    if (this != &o) {
      count_drop();  // the value held so far is gone
      v_ = o.v_;
      drops_ = std::exchange(o.drops_, nullptr);
    }
    return *this;
  }
  ~Tracked() {
    count_drop();
    live_.fetch_sub(1);
  }

  int value() const { return v_; }
  // Tracked objects alive in the process (moved-from ones included).
  static long live() { return live_.load(); }

 private:
  void count_drop() {
    if (drops_ != nullptr) drops_->fetch_add(1);
  }
  int v_;
  std::atomic<int>* drops_;
  static inline std::atomic<long> live_{0};
};

}  // namespace pollwake::testing

#endif  // POLLWAKE_TESTS_SUPPORT_DROP_COUNTER_H_
