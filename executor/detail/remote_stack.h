// executor/detail/remote_stack.h
//
// RemoteStack<Node>: the lock-free multi-producer, single-consumer stack that
// carries LocalPool wakes from other threads to the pool (a Treiber stack).
// futures-rs's LocalPool has no such thing: its wakers are Arc<Task>s that
// set a flag and unpark the thread, and FuturesUnordered keeps its own
// intrusive MPSC queue (Vyukov's). pollwake uses the simplest lock-free
// structure that fits, because the consumer takes the whole stack at once:
//   push(node)   any thread: one CAS loop; false once the stack is closed
//   take_all()   the consumer: one exchange; the nodes in push order (FIFO)
//   close()      the consumer, once: takes what is left; later pushes fail
// Nodes are linked through a `next` member that the pusher owns until its
// CAS succeeds and the consumer owns after take_all().
//
// Why there is no ABA problem: ABA bites a Treiber stack whose pop reads
// head->next and then CASes head from `head` to `next`: if between the read
// and the CAS the node is popped, freed or reused and pushed again, the CAS
// succeeds with a stale `next`. Here nothing pops a single node: the
// consumer detaches the whole chain with an exchange (which does not compare
// anything), and a pusher's CAS only publishes its own node, whose `next` it
// has just written from the value it compares against. A node cannot be
// pushed twice either: a task is pushed only by the wake that set its
// kScheduled bit, and the bit is cleared only after the pool took the node.
#ifndef POLLWAKE_EXECUTOR_DETAIL_REMOTE_STACK_H_
#define POLLWAKE_EXECUTOR_DETAIL_REMOTE_STACK_H_

#include <atomic>

namespace pollwake::detail {

template <class Node>
class RemoteStack {
 public:
  // Pushes `node` (any thread); false if the stack was closed, and then the
  // node is untouched and still the caller's.
  bool push(Node* node) noexcept {
    // ORDERING: relaxed; only a first guess for the CAS below.
    Node* head = head_.load(std::memory_order_relaxed);
    do {
      if (head == closed_marker()) return false;
      node->next = head;
      // ORDERING: release publishes node->next (and whatever the pusher
      // wrote before) to the consumer's acquire exchange.
    } while (!head_.compare_exchange_weak(head, node, std::memory_order_release,
                                          std::memory_order_relaxed));
    return true;
  }

  // Takes every node pushed so far, oldest first (the consumer only).
  Node* take_all() noexcept {
    // Cheap check first: most calls find nothing. ORDERING: relaxed; a push
    // it misses is taken by the next call (and the pusher then unparks).
    if (head_.load(std::memory_order_relaxed) == nullptr) return nullptr;
    // ORDERING: acquire, pairs with push's release CAS.
    return reverse(head_.exchange(nullptr, std::memory_order_acquire));
  }

  // Whether a push is waiting to be taken (the consumer only). ORDERING:
  // relaxed, as take_all's first check: a push it misses is seen by the
  // next look, and its pusher wakes the consumer after pushing.
  bool maybe_nonempty() const noexcept {
    Node* head = head_.load(std::memory_order_relaxed);
    return head != nullptr && head != closed_marker();
  }

  // Closes the stack for good (the consumer, once); returns what was on it,
  // oldest first.
  Node* close() noexcept {
    // ORDERING: acquire, as take_all.
    return reverse(head_.exchange(closed_marker(), std::memory_order_acquire));
  }

 private:
  static Node* reverse(Node* lifo) noexcept {
    Node* fifo = nullptr;
    while (lifo != nullptr) {
      Node* next = lifo->next;
      lifo->next = fifo;
      fifo = lifo;
      lifo = next;
    }
    return fifo;
  }
  static Node* closed_marker() noexcept {
    // SAFETY: never dereferenced; only its address is compared. A static
    // byte's address cannot equal a live node's.
    static char marker;
    return reinterpret_cast<Node*>(&marker);
  }

  std::atomic<Node*> head_{nullptr};
};

}  // namespace pollwake::detail

#endif  // POLLWAKE_EXECUTOR_DETAIL_REMOTE_STACK_H_
