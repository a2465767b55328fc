// tests/stress/stress_util.h: what only the stress tests share (the
// watchdog, the deadline and the sanitizer scale come from tests/support/).
//
//   Probe        counters a test future keeps: polls, polls that overlapped
//                another poll of the same future, polls after Ready, and
//                destructions, for the assertions the tests end with.
//   PollScope    marks one future as being polled for the duration of a poll.
#ifndef POLLWAKE_TESTS_STRESS_STRESS_UTIL_H_
#define POLLWAKE_TESTS_STRESS_STRESS_UTIL_H_

#include <atomic>

#include "tests/support/deadline.h"
#include "tests/support/drop_counter.h"
#include "tests/support/sanitizer_scale.h"
#include "tests/support/watchdog.h"

namespace pollwake::stress {

// Probe: counters for one test future (or a set of them).
struct Probe {
  std::atomic<long> polls{0};
  std::atomic<long> overlapping_polls{0};     // a poll began while another ran
  std::atomic<long> polls_after_ready{0};
  std::atomic<long> created{0};
  std::atomic<long> destroyed{0};
  std::atomic<long> completed{0};

  long live() const { return created.load() - destroyed.load(); }
};

// PollScope: marks one future as being polled for the duration of a poll
// and counts an overlap if another poll of the same future is running.
class PollScope {
 public:
  PollScope(std::atomic<bool>& in_poll, Probe& probe) : in_poll_(in_poll) {
    probe.polls.fetch_add(1, std::memory_order_relaxed);  // ORDERING: a count only
    // ORDERING: acq_rel, so that two overlapping polls cannot both see false.
    if (in_poll_.exchange(true, std::memory_order_acq_rel)) {
      probe.overlapping_polls.fetch_add(1, std::memory_order_relaxed);
    }
  }
  // ORDERING: release, pairs with the next poll's acq_rel exchange.
  ~PollScope() { in_poll_.store(false, std::memory_order_release); }
  PollScope(const PollScope&) = delete;
  PollScope& operator=(const PollScope&) = delete;

 private:
  std::atomic<bool>& in_poll_;
};

}  // namespace pollwake::stress

#endif  // POLLWAKE_TESTS_STRESS_STRESS_UTIL_H_
