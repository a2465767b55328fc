// executor/detail/run_queue.h
//
// RunQueue<Node>: one ThreadPool worker's run queue, an intrusive FIFO under
// an absl::Mutex. futures-rs's ThreadPool feeds all workers from one mpsc channel;
// pollwake gives each worker its own queue so that workers rarely contend,
// and lets an idle worker steal the front half of another's (tokio and
// crossbeam do the same with lock-free Chase-Lev deques; a mutex keeps the
// lesson on the scheduling, not on the deque).
//   push(node)          the back; any thread
//   pop()               the front, or nullptr
//   steal_half(into)    the front half (rounded up, at most max) to the
//                       back of `into`; never holds both locks at once
//   take_all()          the whole chain (shutdown)
//   len_seq_cst()       the length, for the sleep handshake (has_work)
// Nodes are linked through `next`, owned by the queue while queued.
#ifndef POLLWAKE_EXECUTOR_DETAIL_RUN_QUEUE_H_
#define POLLWAKE_EXECUTOR_DETAIL_RUN_QUEUE_H_

#include <algorithm>
#include <atomic>
#include <cstddef>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "poll/annotated_lock.h"

namespace pollwake::detail {

template <class Node>
class alignas(64) RunQueue {
 public:
  // Appends `node`. The queue must outlive the call (the caller holds a
  // reference to its owner): absl::Mutex does not promise that Unlock()
  // leaves the mutex alone once another thread could take it and free it
  // (see schedule() in thread_pool.cc).
  void push(Node* node) {
    node->next = nullptr;
    MutexLock lock(&mu_);
    append_locked(node, node, 1);
  }

  Node* pop() {
    if (len_.load(std::memory_order_relaxed) == 0) return nullptr;  // a hint only
    MutexLock lock(&mu_);
    Node* node = head_;
    if (node == nullptr) return nullptr;
    head_ = node->next;
    if (head_ == nullptr) tail_ = nullptr;
    node->next = nullptr;
    set_len_locked(len_.load(std::memory_order_relaxed) - 1);
    return node;
  }

  // Half, not all: the tasks a busy worker spawns (onto its own queue) are
  // shared with the thief, so fan-out inside a task runs in parallel, and
  // what the thief leaves can still go to a third worker.
  bool steal_half(RunQueue& into, std::size_t max) {
    if (len_.load(std::memory_order_relaxed) == 0) return false;  // a hint only
    Node* first;
    Node* last;
    std::size_t n;
    {
      MutexLock lock(&mu_);
      std::size_t len = len_.load(std::memory_order_relaxed);
      if (len == 0) return false;
      n = std::min<std::size_t>((len + 1) / 2, max);
      first = last = head_;
      for (std::size_t i = 1; i < n; ++i) last = last->next;
      head_ = last->next;
      if (head_ == nullptr) tail_ = nullptr;
      last->next = nullptr;
      set_len_locked(len - n);
    }
    // Between the two critical sections the stolen tasks are in neither
    // queue's count; the thief is awake and polls them next, so no sleeper
    // needs to be woken for them.
    MutexLock lock(&into.mu_);
    into.append_locked(first, last, n);
    return true;
  }

  Node* take_all() {
    MutexLock lock(&mu_);
    Node* first = head_;
    head_ = tail_ = nullptr;
    set_len_locked(0);
    return first;
  }

  std::size_t len_seq_cst() const {
    // ORDERING: seq_cst, one half of the sleep handshake (see has_work() in
    // thread_pool.cc).
    return len_.load(std::memory_order_seq_cst);
  }

 private:
  void append_locked(Node* first, Node* last, std::size_t n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (tail_ == nullptr) {
      head_ = first;
    } else {
      tail_->next = first;
    }
    tail_ = last;
    set_len_locked(len_.load(std::memory_order_relaxed) + n);
  }
  void set_len_locked(std::size_t n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    // ORDERING: relaxed store under mu_; a pusher's seq_cst fence in
    // notify() orders it before its read of the idle counters.
    len_.store(n, std::memory_order_relaxed);
  }

  // An absl::Mutex taken through poll/annotated_lock.h: Debian's libabsl is
  // not built with ThreadSanitizer, and the annotated guards tell TSan what
  // the lock orders (without them it would report the links as races).
  absl::Mutex mu_;
  Node* head_ ABSL_GUARDED_BY(mu_) = nullptr;
  Node* tail_ ABSL_GUARDED_BY(mu_) = nullptr;
  // Written under mu_; read without it by idle workers deciding whether to
  // sleep, and as a hint before taking the lock.
  std::atomic<std::size_t> len_{0};
};

}  // namespace pollwake::detail

#endif  // POLLWAKE_EXECUTOR_DETAIL_RUN_QUEUE_H_
