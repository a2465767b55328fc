/* tests/model/local_pool.pml
 *
 * A Promela model (for Debian's `spin`) of one LocalPool task's wake
 * protocol: the kScheduled and kDone bits of a LocalPool task (executor/detail/local_task.{h,cc}),
 * the waker's local_task_wake() and the pool's clear-then-poll in
 * poll_task(). Two wakers on other threads each make events happen (a store
 * the future reads, as a user future that reads an atomic flag does) and
 * then wake the task; the future consumes every event it sees and then wakes
 * itself (so later wakes often find the task still queued and coalesce).
 *
 * Unlike thread_pool.pml, this model does not assume sequential
 * consistency: the protocol's point is what a wake that coalesces must do
 * for the memory model. Each thread has a store buffer (x86-TSO, the weakest
 * model in which the broken variants below fail, and weaker than nothing
 * the C++ code relies on): a plain store waits in its thread's buffer and
 * reaches memory at some later step of that thread, a plain load reads
 * memory (or the thread's own buffer), and a read-modify-write drains the
 * buffer first and is atomic. In the C++ memory model the same argument is
 * made with modification order: two RMWs on `state` are ordered, and the
 * later one (acquire) reads the value the earlier one (release) wrote.
 *
 * Checked (spin -a, cc -DSAFETY, ./pan): when nothing can move any more the
 * future has seen every event (no lost wakeup), the task is in the ready
 * queue at most once, and a finished task is never polled.
 *
 * Deliberately broken variants (each MUST fail the check on the lost-wakeup
 * assertion; see wake_protocol_model_test.cc):
 *   -DBROKEN_LOAD_AND_RETURN  the waker loads the state and returns when it
 *                             sees kScheduled (a plain load, no RMW): its
 *                             event can still sit in its store buffer while
 *                             the pool clears kScheduled and polls
 *   -DBROKEN_POOL_PLAIN_CLEAR the pool clears kScheduled with a plain store:
 *                             the clear waits in the pool's buffer while the
 *                             poll reads the old event, and the waker's RMW
 *                             still sees kScheduled
 *
 * What the model leaves out: reference counts and memory (ASan checks those
 * in the C++), the remote stack and the parker (the queue here is one
 * counter; block_on.pml checks the park/unpark protocol), run_until_stalled's
 * progress rule (the schedule fuzzer checks it), and more than one task.
 */

#ifndef WAKERS
#define WAKERS 2
#endif
#ifndef ROUNDS
#define ROUNDS 2
#endif
#define TOTAL (WAKERS * ROUNDS)

/* Memory. */
bit sched = 1;            /* kScheduled: spawned = queued */
bit done = 0;             /* kDone */
byte ev_mem = 0;          /* events that have reached memory */
/* Store buffers. */
byte ev_buf[WAKERS];      /* a waker's events not yet in memory */
bit pool_clear_buf = 0;   /* BROKEN_POOL_PLAIN_CLEAR: a buffered sched = 0 */

byte queued = 1;          /* entries in the ready queue (pool_spawn queued one) */
byte seen = 0;            /* events the future has consumed */
bit polling = 0;          /* ghost: the pool is inside poll */

inline flush_waker(w) {
  atomic { ev_mem = ev_mem + ev_buf[w]; ev_buf[w] = 0 }
}

inline flush_pool() {
  atomic { if :: pool_clear_buf -> sched = 0; pool_clear_buf = 0 :: else -> skip fi }
}

// [START model_wake]
/* local_task_wake() from another thread. */
inline wake(w) {
#if defined(BROKEN_LOAD_AND_RETURN)
  /* load; return if done or already queued; else CAS */
  if
  :: atomic { (done || sched) -> skip }      /* plain load: the buffer stays */
  :: atomic { !(done || sched) -> ev_mem = ev_mem + ev_buf[w]; ev_buf[w] = 0;
              sched = 1; assert(queued == 0); queued++ }
  fi
#else
  /* one RMW (fetch_or, acq_rel): drains the buffer, then reads and writes */
  atomic {
    ev_mem = ev_mem + ev_buf[w]; ev_buf[w] = 0;
    if
    :: done -> skip                           /* finished: ignore */
    :: !done && sched -> skip                 /* queued: coalesce */
    :: !done && !sched -> sched = 1; assert(queued == 0); queued++
    fi
  }
#endif
}
// [END model_wake]

proctype Waker(byte w) {
  byte i = 0;
  do
  :: i < ROUNDS ->
     ev_buf[w]++;                 /* the event: a plain store, buffered */
     if
     :: flush_waker(w)            /* it may reach memory before the wake ... */
     :: skip                      /* ... or not */
     fi;
     wake(w);
     i++
  :: else -> break
  od;
  flush_waker(w)                  /* a store buffer drains eventually */
}

// [START model_pool]
/* The pool's run loop for this task: pop, clear kScheduled, poll. */
proctype Pool() {
  byte now;
end:
  do
  :: atomic { pool_clear_buf -> sched = 0; pool_clear_buf = 0 }  /* drains, even asleep */
  :: atomic { queued > 0 -> queued-- } ;
#if defined(BROKEN_POOL_PLAIN_CLEAR)
     pool_clear_buf = 1;          /* plain store: buffered */
#else
     atomic { sched = 0 };        /* fetch_and (acq_rel): an RMW */
#endif
     if
     :: done -> skip              /* a wake that raced completion: discard */
     :: else ->
        atomic { polling = 1; now = ev_mem };   /* the future reads the event */
        if
        :: now > seen ->
           seen = now;
           if
           :: seen == TOTAL -> done = 1         /* Ready */
           :: else ->
              /* the future wakes itself (pool thread, inside the run) */
              flush_pool();
              atomic { if :: !sched -> sched = 1; assert(queued == 0); queued++
                          :: else -> skip fi }
           fi
        :: else -> skip           /* Pending */
        fi;
        polling = 0
     fi
  od
}
// [END model_pool]

/* `timeout` is executable only when no other process can move: the wakers
 * are done (their buffers drained) and the pool sleeps on an empty queue. */
proctype Monitor() {
  timeout ->
    assert(seen == TOTAL)         /* every event was seen: no lost wakeup */
}

init {
  atomic {
    run Pool();
    run Waker(0);
    run Waker(1);
    run Monitor();
  }
}
