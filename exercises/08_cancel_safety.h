// Exercise 08: a select loop that loses messages.          (docs chapter 12)
//
// The Rust loop this machine is:
//
//   loop {
//       select! {
//           _ = ticker.tick() => ticks += 1,
//           pair = batch2(&queue) => { pairs.push(pair); if done { break } }
//       }
//   }
//
// batch2 takes items off the queue into its own state until it has two.
// It is not cancellation safe: dropping it while it holds one item loses
// that item. And the loop drops it every time the tick wins, because each
// turn builds a new select from new futures. Fix the loop (not Batch2): keep
// the unfinished Batch2 across turns. select hands the loser back for this.
//
// HINT: keep a std::optional<Batch2> member; build each turn's select from
// HINT: std::move(*batch_); on a tick (is_left()), put the loser back:
// HINT: batch_.emplace(std::move(r).left().second).
#ifndef POLLWAKE_EXERCISES_08_CANCEL_SAFETY_H_
#define POLLWAKE_EXERCISES_08_CANCEL_SAFETY_H_

#include <cstddef>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "exercises/support.h"
#include "poll/select.h"

namespace exercises {

// Queue: items pushed by the test; wakes whoever waits for one.
struct Queue {
  std::deque<int> items;
  std::optional<Waker> waker;
  void push(int v) {
    items.push_back(v);
    if (waker) std::exchange(waker, std::nullopt)->wake_by_ref();
  }
};

// Ticker: the test fires ticks; Tick is Ready once per fired tick.
struct Ticker {
  int fired = 0;
  std::optional<Waker> waker;
  void fire() {
    ++fired;
    if (waker) std::exchange(waker, std::nullopt)->wake_by_ref();
  }
};
class Tick {
 public:
  using Output = pollwake::Unit;
  explicit Tick(Ticker& t) : t_(&t) {}
  Poll<pollwake::Unit> poll(Context& cx) {
    if (t_->fired > 0) {
      --t_->fired;
      return Ready();
    }
    t_->waker.emplace(cx.waker());
    return Pending;
  }

 private:
  Ticker* t_;
};

// Batch2: Ready with the next two items of the queue. Holds what it took.
class Batch2 {
 public:
  using Output = std::pair<int, int>;
  explicit Batch2(Queue& q) : q_(&q) {}
  Poll<Output> poll(Context& cx) {
    while (got_.size() < 2 && !q_->items.empty()) {
      got_.push_back(q_->items.front());
      q_->items.pop_front();
    }
    if (got_.size() == 2) return Ready(Output(got_[0], got_[1]));
    q_->waker.emplace(cx.waker());
    return Pending;
  }

 private:
  Queue* q_;
  std::vector<int> got_;
};

// PairLoop: the loop above as a future; Ready after `want` pairs.
class PairLoop {
 public:
  using Output = pollwake::Unit;
  PairLoop(Queue& q, Ticker& t, std::size_t want) : q_(&q), t_(&t), want_(want) {}

  Poll<pollwake::Unit> poll(Context& cx) {
    for (;;) {
      if (!sel_) sel_.emplace(pollwake::select(Tick(*t_), Batch2(*q_)));  // a new turn
      auto p = sel_->poll(cx);
      if (p.is_pending()) return Pending;
      auto r = std::move(p).value();
      sel_.reset();
      if (r.is_left()) {
        ++ticks;  // the tick won; the Batch2 it beat is dropped with `r`
      } else {
        pairs.push_back(std::move(r).right().first);
        if (pairs.size() == want_) return Ready();
      }
    }
  }

  std::vector<std::pair<int, int>> pairs;
  int ticks = 0;

 private:
  Queue* q_;
  Ticker* t_;
  std::size_t want_;
  std::optional<pollwake::Select<Tick, Batch2>> sel_;  // the current turn
};

}  // namespace exercises

#endif  // POLLWAKE_EXERCISES_08_CANCEL_SAFETY_H_
