// tests/stress/tracked.h: a message type that counts its live copies, so a
// channel stress test can assert that every value sent, refused or left in
// a dropped channel was destroyed exactly once (live() == 0 at the end).
#ifndef POLLWAKE_TESTS_STRESS_TRACKED_H_
#define POLLWAKE_TESTS_STRESS_TRACKED_H_

#include <atomic>

namespace pollwake::stress {

class Tracked {
 public:
  explicit Tracked(int v) : v_(v) { live_.fetch_add(1); }
  Tracked(const Tracked& o) : v_(o.v_) { live_.fetch_add(1); }
  Tracked(Tracked&& o) noexcept : v_(o.v_) { live_.fetch_add(1); }
  Tracked& operator=(const Tracked&) = default;
  Tracked& operator=(Tracked&&) noexcept = default;
  ~Tracked() { live_.fetch_sub(1); }
  int value() const { return v_; }
  static long live() { return live_.load(); }

 private:
  int v_;
  static inline std::atomic<long> live_{0};
};

}  // namespace pollwake::stress

#endif  // POLLWAKE_TESTS_STRESS_TRACKED_H_
