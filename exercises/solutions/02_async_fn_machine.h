// Solution to exercise 02: the second await is the first one again, with
// `x` carried in the state because it lives across the suspension.
#ifndef POLLWAKE_EXERCISES_02_ASYNC_FN_MACHINE_H_
#define POLLWAKE_EXERCISES_02_ASYNC_FN_MACHINE_H_

#include <cstdint>
#include <utility>
#include <variant>

#include "exercises/support.h"

namespace exercises {

class AddTwo {
 public:
  using Output = std::uint32_t;
  AddTwo(Event a, Event b) : state_(Unresumed{a, b}) {}

  Poll<std::uint32_t> poll(Context& cx) {
    for (;;) {
      if (auto* s = std::get_if<Unresumed>(&state_)) {
        state_ = AwaitingA{s->a, s->b};
        continue;
      }
      if (auto* s = std::get_if<AwaitingA>(&state_)) {
        Poll<std::uint32_t> p = s->a.poll(cx);  // await point 1
        if (p.is_pending()) return Pending;
        state_ = AwaitingB{p.value(), s->b};
        continue;
      }
      if (auto* s = std::get_if<AwaitingB>(&state_)) {
        Poll<std::uint32_t> p = s->b.poll(cx);  // await point 2
        if (p.is_pending()) return Pending;
        const std::uint32_t sum = s->x + p.value();
        state_ = Finished{};
        return Ready(sum);
      }
      pollwake::polled_after_completion("add_two");  // Finished
    }
  }

 private:
  struct Unresumed { Event a, b; };
  struct AwaitingA { Event a, b; };
  struct AwaitingB { std::uint32_t x; Event b; };
  struct Finished {};
  std::variant<Unresumed, AwaitingA, AwaitingB, Finished> state_;
};

}  // namespace exercises

#endif  // POLLWAKE_EXERCISES_02_ASYNC_FN_MACHINE_H_
