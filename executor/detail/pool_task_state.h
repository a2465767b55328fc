// executor/detail/pool_task_state.h
//
// Models futures-rs's `UnparkMutex` (futures-executor/src/unpark_mutex.rs),
// the state word of a ThreadPool task: who may poll the task now, and what
// a wake does at each moment. UnparkMutex's wait() / notify() / complete()
// are end_pending() / wake() / complete() here.
//
// How pollwake differs, and why:
//   * UnparkMutex stores the task's future inside the mutex and hands it to
//     whoever wins the right to poll; pollwake's task is one allocation
//     (executor/detail/pool_task.h) and the state word only grants the
//     right, so a wake costs one compare-and-swap and no move of the future.
//   * Shutdown may claim a task nobody will wake (WAITING -> COMPLETE), so
//     that its future is destroyed (futures-rs leaks it).
//   * A wake during a poll requeues the task (at the back of its worker's
//     queue) instead of looping in the same poll call.
// The moves, who makes them and when: the table in docs/02_executors.md
// ("The task state table"), checked by tests/model/thread_pool.pml.
#ifndef POLLWAKE_EXECUTOR_DETAIL_POOL_TASK_STATE_H_
#define POLLWAKE_EXECUTOR_DETAIL_POOL_TASK_STATE_H_

#include <atomic>
#include <cstdint>

#include "executor/record/hooks.h"

namespace pollwake::detail {

// [START task_states]
// The task state machine (futures-rs's UnparkMutex, plus shutdown).
// The thread that moves a task into POLLING owns the right to poll it (or,
// at shutdown, to destroy it) until it moves the task out again; so a task
// is never polled by two threads at once.
enum PoolTaskStates : std::uint32_t {
  WAITING = 0,   // -> POLLING (a wake queues it) or COMPLETE (pool shut down)
  POLLING = 1,   // -> WAITING, REPOLL or COMPLETE
  REPOLL = 2,    // -> POLLING (the worker polls again, exactly once), by an
                 //    acquire exchange: never a store (see below)
  COMPLETE = 3,  // no way out: wakes are ignored
};
// [END task_states]
// Who makes each move:
//   WAITING  -> POLLING   a waker (wake / wake_by_ref), which then queues the
//                         task; spawn creates tasks directly in POLLING.
//   POLLING  -> REPOLL    a waker, while the task is queued or being polled.
//   REPOLL   -> POLLING   the worker: at the start of a poll (the wake came
//                         while the task was queued; this poll serves it), or
//                         after a Pending poll (it queues the task again).
//                         Both are acquire exchanges, never stores: a wake
//                         may set REPOLL again at any moment, and its writes
//                         must reach the poll that serves it.
//   POLLING  -> WAITING   the worker, after a Pending poll with no wake.
//   POLLING/REPOLL -> COMPLETE  the worker after Ready or an exception, or
//                         shutdown for a queued task.
//   WAITING  -> COMPLETE  shutdown, for a task nobody will wake.

class PoolTaskState {
 public:
  // Spawn: the task is created queued; the spawner owns POLLING until a
  // worker takes it. ORDERING: relaxed; no waker exists yet, and the queue's
  // lock publishes the task.
  void start_queued() noexcept { v_.store(POLLING, std::memory_order_relaxed); }

  // A wake (Waker::wake / wake_by_ref). True when it moved the task from
  // WAITING to POLLING: the caller now owns the task and must queue it,
  // exactly once. False otherwise: the holder of POLLING polls again
  // (REPOLL), or the task is complete and the wake is ignored.
  // [START wake_task]
  bool wake() noexcept {
    std::uint32_t s = v_.load(std::memory_order_relaxed);
    for (;;) {
      switch (s) {
        case WAITING:
          // ORDERING: acq_rel. Acquire: this thread will hand the task to a
          // worker, which must see the previous poll's writes (released by
          // the worker's POLLING -> WAITING). Release: the waker's own writes
          // (the event it signals) reach the worker through the queue's
          // mutex too.
          if (v_.compare_exchange_weak(s, POLLING, std::memory_order_acq_rel,
                                       std::memory_order_relaxed)) {
            return true;  // we own POLLING now: queue it exactly once
          }
          break;
        case POLLING:
        case REPOLL:
          // ORDERING: release, and an RMW even for REPOLL -> REPOLL: the
          // worker reads REPOLL with an acquire RMW, and this waker's writes
          // before the wake must be visible to the poll that serves it.
          if (v_.compare_exchange_weak(s, REPOLL, std::memory_order_release,
                                       std::memory_order_relaxed)) {
            POLLWAKE_RECORD_ALREADY_QUEUED();
            return false;  // the worker that holds the task will poll it again
          }
          break;
        default:  // COMPLETE: ignored; the pool may even be gone
          return false;
      }
    }
  }
  // [END wake_task]

  // The worker, before a poll: a wake that came while the task sat in the
  // queue is served by this poll.
  void begin_poll() noexcept {
    // ORDERING: acquire exchange, so the waker's writes are visible to the
    // poll (a relaxed load first: REPOLL is rare, and a miss is harmless,
    // as the waker's release RMW is then read by end_pending()).
    if (v_.load(std::memory_order_relaxed) == REPOLL) v_.exchange(POLLING, std::memory_order_acquire);
  }

  // The worker, after a Pending poll. True: the task is WAITING, and the
  // worker must not touch it again (a waker may already own it). False: a
  // wake came during the poll; the task is POLLING again and the worker
  // queues it for exactly one more poll.
  // [START end_pending]
  bool end_pending() noexcept {
    std::uint32_t expected = POLLING;
    // ORDERING: release on success, so the next poller (whoever wakes the
    // task next) sees this poll's writes; acquire on failure, to see the
    // writes of the waker that set REPOLL.
    if (v_.compare_exchange_strong(expected, WAITING, std::memory_order_release,
                                   std::memory_order_acquire)) {
      return true;
    }
    // expected == REPOLL. ORDERING: acquire exchange, not a store: another
    // wake may land between the failed CAS and this move (REPOLL -> REPOLL,
    // a release RMW). A plain store would end that wake's release sequence
    // unread, and the next poll (whose begin_poll() then loads POLLING) would
    // have acquired its writes from nobody. The exchange reads the latest
    // value, so it acquires every such wake.
    // (tests/model/thread_pool.pml, -DMEMORY -DBROKEN_RELAXED_REPOLL_STORE.)
    v_.exchange(POLLING, std::memory_order_acquire);
    return false;
  }
  // [END end_pending]

  // The holder of POLLING (or REPOLL), the task being done: Ready, threw,
  // or destroyed at shutdown. ORDERING: acq_rel exchange; a wake that set
  // REPOLL meanwhile is simply overwritten (a wake after completion is
  // ignored).
  void complete() noexcept { v_.exchange(COMPLETE, std::memory_order_acq_rel); }

  // Shutdown, for a task in the registry: claims it if nobody will wake it
  // (WAITING -> COMPLETE). False when a waker owns it (POLLING): it is about
  // to show up in a run queue. ORDERING: acquire, to see the last poll's
  // writes before destroying the future.
  bool claim_waiting() noexcept {
    std::uint32_t s = WAITING;
    return v_.compare_exchange_strong(s, COMPLETE, std::memory_order_acquire);
  }

 private:
  std::atomic<std::uint32_t> v_{WAITING};
};

}  // namespace pollwake::detail

#endif  // POLLWAKE_EXECUTOR_DETAIL_POOL_TASK_STATE_H_
