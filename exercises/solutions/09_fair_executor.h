// Solution to exercise 09: a woken task goes to the back of the queue.
#ifndef POLLWAKE_EXERCISES_09_FAIR_EXECUTOR_H_
#define POLLWAKE_EXERCISES_09_FAIR_EXECUTOR_H_

#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "exercises/support.h"
#include "poll/box_future.h"
#include "poll/waker_fn.h"

namespace exercises {

class ToyExecutor {
 public:
  void spawn(pollwake::LocalBoxFuture<pollwake::Unit> f) {
    tasks_.emplace_back(std::move(f));
    queue_->push_back(tasks_.size() - 1);
  }

  // Polls queued tasks until the queue is empty or `budget` polls were made.
  // Returns the number of polls made.
  int run(int budget) {
    int polls = 0;
    while (polls < budget && !queue_->empty()) {
      const std::size_t id = queue_->front();
      queue_->pop_front();
      if (!tasks_[id]) continue;  // finished; a stale wake
      Waker waker = pollwake::waker_fn([q = queue_.get(), id] { schedule(*q, id); });
      Context cx = Context::from_waker(waker);
      ++polls;
      if (tasks_[id]->poll(cx).is_ready()) tasks_[id].reset();
    }
    return polls;
  }

 private:
  // Called by a task's waker: the task is ready to be polled again.
  static void schedule(std::deque<std::size_t>& q, std::size_t id) {
    q.push_back(id);  // FIFO: behind every task already ready
  }

  // Declared first so it outlives the tasks (their stored wakers point at it).
  std::unique_ptr<std::deque<std::size_t>> queue_ = std::make_unique<std::deque<std::size_t>>();
  std::vector<std::optional<pollwake::LocalBoxFuture<pollwake::Unit>>> tasks_;
};

}  // namespace exercises

#endif  // POLLWAKE_EXERCISES_09_FAIR_EXECUTOR_H_
