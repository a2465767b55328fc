// tests/support/deadline.h: the one deadline every test waits under, and the
// bounded waits built on it.
//
//   kDeadline        how long a test waits for something that must happen
//                    (a wake, a task, a continuation) before it reports a
//                    lost wakeup and FAILS. Generous, because CI runs the
//                    sanitizers on two busy cores; it bounds a hang, it is
//                    never a speed claim (speed belongs in bench/).
//   eventually(p)    polls p() every millisecond until it holds; false if it
//                    still does not at the deadline.
#ifndef POLLWAKE_TESTS_SUPPORT_DEADLINE_H_
#define POLLWAKE_TESTS_SUPPORT_DEADLINE_H_

#include <chrono>
#include <thread>

namespace pollwake::testing {

inline constexpr std::chrono::seconds kDeadline{20};

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = kDeadline) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace pollwake::testing

#endif  // POLLWAKE_TESTS_SUPPORT_DEADLINE_H_
