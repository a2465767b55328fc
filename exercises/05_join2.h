// Exercise 05: write join2.                                (docs chapter 3)
//
// `futures::future::join(a, b)` waits for both futures and returns both
// outputs. Each poll polls every inner future that has not finished yet.
// A future that returned Ready has handed over its value: it must never be
// polled again (a Rust future may panic; pollwake's throw). The Join2 below
// keeps the outputs, but polls both futures on every poll, finished or not.
//
// HINT: poll `a` only while a_out_ is empty, and `b` only while b_out_ is
// HINT: empty; Ready when both are set.
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
    Poll<pollwake::OutputOf<A>> pa = a_.poll(cx);  // TODO: even when finished?
    if (pa.is_ready()) a_out_.emplace(std::move(pa).value());
    Poll<pollwake::OutputOf<B>> pb = b_.poll(cx);
    if (pb.is_ready()) b_out_.emplace(std::move(pb).value());
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
