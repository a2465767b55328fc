// Solution to exercise 05: a set output means "finished, do not poll".
#ifndef POLLWAKE_EXERCISES_05_JOIN2_H_
#define POLLWAKE_EXERCISES_05_JOIN2_H_

#include <optional>
#include <utility>

#include "exercises/support.h"
#include "poll/future.h"

namespace exercises {

template <pollwake::Future A, pollwake::Future B>
class Join2 {
 public:
  using Output = std::pair<pollwake::OutputOf<A>, pollwake::OutputOf<B>>;
  Join2(A a, B b) : a_(std::move(a)), b_(std::move(b)) {}

  Poll<Output> poll(Context& cx) {
    if (!a_out_) {
      Poll<pollwake::OutputOf<A>> pa = a_.poll(cx);
      if (pa.is_ready()) a_out_.emplace(std::move(pa).value());
    }
    if (!b_out_) {
      Poll<pollwake::OutputOf<B>> pb = b_.poll(cx);
      if (pb.is_ready()) b_out_.emplace(std::move(pb).value());
    }
    if (a_out_ && b_out_) return Ready(Output(std::move(*a_out_), std::move(*b_out_)));
    return Pending;
  }

 private:
  A a_;
  B b_;
  std::optional<pollwake::OutputOf<A>> a_out_;
  std::optional<pollwake::OutputOf<B>> b_out_;
};

template <class A, class B>
Join2<A, B> join2(A a, B b) {
  return Join2<A, B>(std::move(a), std::move(b));
}

}  // namespace exercises

#endif  // POLLWAKE_EXERCISES_05_JOIN2_H_
