// Exercise 02: write the machine for an async fn.         (docs chapter 3)
//
// The async fn:
//
//   async fn add_two(a: Event, b: Event) -> u32 {
//       let x = a.await;   // await point 1
//       let y = b.await;   // await point 2
//       x + y
//   }
//
// rustc turns it into an enum with one variant per place the body can be
// suspended, and a poll that runs from the current variant to the next await
// that is Pending. The start and the first await are written below; the
// second await is yours. Rules the test checks: `b` is not polled before `a`
// is Ready; the result is Ready(x + y) once both events fired; a poll after
// Ready throws FuturePolledAfterCompletion.
//
// HINT: AwaitingA already moves on to AwaitingB{x, b}; write the AwaitingB
// HINT: branch the same way: poll `b`, return Pending if it is, else move to
// HINT: Finished and return Ready(x + y).
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
      if (std::holds_alternative<AwaitingB>(state_)) {
        return Pending;  // TODO: await point 2, then `x + y`
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
