/* tests/model/thread_pool.pml
 *
 * A Promela model (for Debian's `spin`) of one ThreadPool task's wake
 * protocol: the task states WAITING, POLLING, REPOLL and COMPLETE of
 * executor/detail/pool_task_state.h (PoolTaskState), which follow
 * futures-rs's UnparkMutex (futures-executor/src/unpark_mutex.rs) with two
 * changes that the model keeps: a wake during a poll makes the worker queue
 * the task again (instead of polling it again at once), and shutdown
 * destroys unfinished tasks. Several wakers race one another and two
 * workers; each waker makes an event happen (the thing the future waits
 * for) and then wakes the task, as a real waker does after, say, sending on
 * a channel. The C++ names map one to one:
 *   notify()      PoolTaskState::wake() + schedule()   (pool_task_wake)
 *   run_task      run_task()
 *   shutdown      shutdown() + cleanup()
 *
 * Checked (spin -a, cc -DSAFETY, ./pan): every assert below, and that no
 * process is left blocked outside an `end` label.
 *   - no lost wakeup: when nothing can move any more, the task is COMPLETE;
 *     unless the pool was shut down, it completed by a poll, and no wake is
 *     left without a poll that started after it;
 *   - no concurrent poll: at most one worker is inside poll;
 *   - no poll after completion (or after the future was destroyed);
 *   - a task is in the run queues at most once;
 *   - the future is destroyed exactly once (by its last poll or by
 *     shutdown), and shutdown never frees the pool while a waker is about to
 *     queue the task on it;
 *   - the registry (which shutdown sweeps) never holds a finished task.
 * With -DSHUTDOWN a process drops the last pool handle at any moment (or
 * never): closes the pool, waits for the workers to stop, then runs cleanup.
 *
 * Deliberately broken variants (each MUST fail the check; see
 * wake_protocol_model_test.cc):
 *   -DBROKEN_NO_REPOLL          a wake during POLLING does not set REPOLL
 *                               (the worker parks the task and the wake is lost)
 *   -DBROKEN_REQUEUE_IN_POLLING a wake during POLLING queues the task again
 *                               (the task is queued twice)
 *   -DBROKEN_EARLY_WAITING      the worker publishes WAITING before its poll
 *                               has returned (a wake queues the task and a
 *                               second worker polls it concurrently)
 *   -DBROKEN_WAKE_REVIVES       a wake of a COMPLETE task queues it again
 *                               (poll after completion)
 *   -DBROKEN_REGISTER_AFTER_WAITING the worker joins the registry after its
 *                               POLLING -> WAITING step, when a waker and
 *                               another worker may already have finished the
 *                               task (a dangling registry entry)
 *   -DBROKEN_RELAXED_REPOLL_STORE (with -DMEMORY) after its CAS POLLING ->
 *                               WAITING failed on REPOLL, the worker moves
 *                               REPOLL -> POLLING with a plain (relaxed)
 *                               store: a wake landing between the CAS and
 *                               the store is acquired by nobody, so the
 *                               next poll need not see its event
 *   -DBROKEN_CLEANUP_SKIPS_POLLING (with -DSHUTDOWN) cleanup does not wait
 *                               for a task a waker has moved to POLLING but
 *                               not yet queued (the pool is freed under the
 *                               waker, and the task is never destroyed)
 *
 * With -DMEMORY the model also follows what each poll is guaranteed to see
 * under the C++ memory model, instead of "every event so far": a poll sees
 * a waker's events only through a chain of release -> acquire from that
 * waker (its RMW on `state`, read by an acquire RMW or load of the worker,
 * or its push under the queue's lock, read by the worker's pop). A release
 * RMW continues the release sequences before it; a plain store by another
 * thread ends them (the value it writes carries nobody's release). Without
 * -DMEMORY every step is sequentially consistent.
 *
 * What the model leaves out: the future itself (reduced to "ready once it
 * has seen every event"), reference counts and memory (ASan checks those in
 * the C++), memory ordering without -DMEMORY (TSan checks the C++), batching and stealing (the run queues are one
 * channel: which worker takes a task does not change the task's states),
 * and the worker that drops the last handle itself.
 */

#define WAITING  0   /* -> POLLING (a wake queues it) or COMPLETE (shutdown) */
#define POLLING  1   /* -> WAITING, REPOLL or COMPLETE */
#define REPOLL   2   /* -> POLLING (the worker queues it for one more poll) */
#define COMPLETE 3   /* no way out: wakes are ignored */

#ifndef WAKERS
#if defined(SHUTDOWN)
#define WAKERS 2     /* shutdown multiplies the interleavings */
#else
#define WAKERS 3
#endif
#endif
#ifndef ROUNDS
#define ROUNDS 2     /* events (and wakes) per waker */
#endif
#define WORKERS 2
#define TOTAL (WAKERS * ROUNDS)

/* pool_spawn: the task starts POLLING and queued; no waker exists yet (the
 * first poll hands it out). */
byte state = POLLING;
chan queue = [2] of { bit };
byte queued = 0;          /* copies of the task in the run queues */
bit in_registry = 0;      /* the task is in the pool's registry: it joins
                             before its first WAITING (register_task) */
bit closed = 0;           /* the last handle went */
byte workers_stopped = 0;
bit pool_freed = 0;       /* ghost: cleanup returned; the pool may be freed */

byte events = 0;          /* how many events the wakers made happen */
bit polled_once = 0;      /* the first poll has started: wakers may run */
bit wake_unserved = 0;    /* ghost: a wake happened after the latest poll began
                             (a wake of a COMPLETE task needs no poll) */
byte polling = 0;         /* ghost: workers inside poll right now */
bit completed = 0;        /* ghost: the poll returned Ready */
byte destroyed = 0;       /* ghost: times the future was destroyed */

#if defined(MEMORY)
/* Knowledge, per waker w: mine[w] events it made; rel[w] of them carried by
 * the release sequences that the current value of `state` belongs to;
 * qrel[w] of them released into the queue's lock; vis[k*WAKERS+w] of them
 * that worker k is guaranteed to see. */
byte mine[WAKERS];
byte rel[WAKERS];
byte qrel[WAKERS];
byte vis[WORKERS * WAKERS];
/* A release RMW by waker w on `state`. */
#define WAKER_RELEASES(w) rel[w] = mine[w]
/* An acquire read of `state` (or acquire RMW) by worker k. */
inline acquire_state(k, j) {
  j = 0;
  do
  :: j < WAKERS -> if :: vis[k * WAKERS + j] < rel[j] -> vis[k * WAKERS + j] = rel[j] :: else fi; j++
  :: else -> break
  od
}
/* Worker k takes the queue's lock after a push (it pops). */
inline acquire_queue(k, j) {
  j = 0;
  do
  :: j < WAKERS -> if :: vis[k * WAKERS + j] < qrel[j] -> vis[k * WAKERS + j] = qrel[j] :: else fi; j++
  :: else -> break
  od
}
/* A plain store to `state` by a worker: it ends every release sequence. */
inline plain_store_state(j) {
  j = 0;
  do
  :: j < WAKERS -> rel[j] = 0; j++
  :: else -> break
  od
}
/* Worker k's release RMW on `state` (POLLING -> WAITING): its knowledge
 * goes with the value, to the waker that moves the task on. */
inline release_state(k, j) {
  j = 0;
  do
  :: j < WAKERS -> if :: rel[j] < vis[k * WAKERS + j] -> rel[j] = vis[k * WAKERS + j] :: else fi; j++
  :: else -> break
  od
}
/* A waker that won WAITING -> POLLING (acq_rel) pushes under the queue's
 * lock: what it acquired from `state` and its own events go with the lock. */
inline waker_pushes(w, j) {
  j = 0;
  do
  :: j < WAKERS -> if :: qrel[j] < rel[j] -> qrel[j] = rel[j] :: else fi; j++
  :: else -> break
  od;
  qrel[w] = mine[w]
}
/* What worker k's poll is guaranteed to see. */
inline visible_events(k, j, out) {
  out = 0; j = 0;
  do
  :: j < WAKERS -> out = out + vis[k * WAKERS + j]; j++
  :: else -> break
  od
}
#else
#define WAKER_RELEASES(w) skip
#endif

/* push(): before cleanup has returned. A waker on a foreign thread takes a
 * reference to the pool for its push (schedule() in thread_pool.cc); that
 * is safe only because the pool is still alive then, which this assert
 * checks: cleanup cannot return while a woken task has yet to be queued. */
inline push() {
  atomic { assert(!pool_freed); queued++; assert(queued <= 1); queue!1 }
}

// [START notify]
/* PoolTaskState::wake(): what Waker::wake / wake_by_ref do. Each alternative is one
 * compare-and-swap on `state` (the guard is read and written in one step). */
inline notify(w) {
  if
  :: atomic { state == WAITING -> state = POLLING; WAKER_RELEASES(w) } ;
#if defined(MEMORY)
     atomic { waker_pushes(w, j) };
#endif
     push()                      /* the waker that won the CAS queues it */
#if defined(BROKEN_NO_REPOLL)
  :: atomic { (state == POLLING || state == REPOLL) -> skip }
#elif defined(BROKEN_REQUEUE_IN_POLLING)
  :: atomic { (state == POLLING || state == REPOLL) -> skip } ; push()
#else
  :: atomic { (state == POLLING || state == REPOLL) -> state = REPOLL; WAKER_RELEASES(w) }
#endif
#if defined(BROKEN_WAKE_REVIVES)
  :: atomic { state == COMPLETE -> state = POLLING } ; push()
#else
  :: atomic { state == COMPLETE -> skip }
#endif
  fi
}
// [END notify]

proctype Waker(byte w) {
  byte i = 0;
  byte j;
  polled_once == 1;              /* it holds a clone of the waker the poll gave out */
  do
  :: i < ROUNDS ->
     events++;                   /* the event happens (e.g. a channel send) */
#if defined(MEMORY)
     mine[w]++;
#endif
     wake_unserved = 1;
     notify(w);
     i++
  :: else -> break
  od
}

/* finish(): Ready (or shutdown): COMPLETE, out of the registry. */
inline finish() {
  state = COMPLETE;
  in_registry = 0
}

/* The registry must never hold a finished task: finish() frees it, so the
 * entry would dangle (cleanup would touch freed memory). */
#define REGISTRY_OK (!(in_registry && state == COMPLETE))

proctype Worker(byte k) {
  byte seen;
  byte j;
end:
  do
  :: closed -> break             /* run_worker: the pool is closing */
  :: queue?_ ->
     queued--;
#if defined(MEMORY)
     atomic { acquire_queue(k, j) };
#endif
     if
     :: closed -> push()         /* shutdown will destroy it */
     :: else ->
        /* run_task(): owning a dequeued task means we may poll it. A wake
         * that came while it was queued (REPOLL) is served by this poll. */
        assert(!completed && destroyed == 0 && state != WAITING && state != COMPLETE);
        if
        :: atomic { state == REPOLL -> state = POLLING   /* exchange, acquire */
#if defined(MEMORY)
                    ; acquire_state(k, j)
#endif
                  }
        :: atomic { state == POLLING -> skip }       /* relaxed load */
        fi;
        atomic {
          assert(polling == 0);      /* no concurrent poll */
          assert(!completed && destroyed == 0);  /* no poll after completion */
          polling++;
          polled_once = 1;
          wake_unserved = 0;
#if defined(MEMORY)
          visible_events(k, j, seen)  /* what this poll is guaranteed to see */
#else
          seen = events              /* the future looks at the world */
#endif
        };
        if
        :: seen == TOTAL ->
           atomic { polling--; completed = 1; destroyed++ }  /* future.reset() */
           finish()
        :: else ->
#if !defined(BROKEN_REGISTER_AFTER_WAITING)
           in_registry = 1;          /* register_task(), once, under the shard lock */
#endif
#if defined(BROKEN_EARLY_WAITING)
           /* the state moves while the future is still being polled */
           if
           :: atomic { state == POLLING -> state = WAITING } ; polling--
           :: atomic { state == REPOLL -> state = POLLING } ; polling--; push()
           fi
#else
           polling--;
           /* CAS POLLING -> WAITING; if it fails, a wake came during the
            * poll: the state is REPOLL, and the worker queues the task for
            * exactly one more poll. */
           if
           :: atomic { state == POLLING -> state = WAITING
#if defined(MEMORY)
                       ; release_state(k, j)
#endif
                     }
#if defined(BROKEN_REGISTER_AFTER_WAITING)
              ; in_registry = 1        /* the task may already be finished */
#endif
#if defined(MEMORY)
           :: atomic { state == REPOLL -> acquire_state(k, j) } ;  /* the CAS fails: acquire */
              /* REPOLL -> POLLING: a wake may land between the CAS and this */
#if defined(BROKEN_RELAXED_REPOLL_STORE)
              atomic { state = POLLING; plain_store_state(j) } ;
#else
              atomic { state = POLLING; acquire_state(k, j) } ;  /* exchange, acquire */
#endif
              atomic { j = 0; do :: j < WAKERS -> if :: qrel[j] < vis[k * WAKERS + j] -> qrel[j] = vis[k * WAKERS + j] :: else fi; j++ :: else -> break od } ;
              push()                   /* the worker's knowledge goes with the lock */
#else
           :: atomic { state == REPOLL -> state = POLLING } ; push()
#endif
           fi
#endif
        fi
     fi
  od;
  workers_stopped++
}

#if defined(SHUTDOWN)
/* shutdown() then cleanup(): the last ThreadPool handle is dropped. */
proctype Shutdown() {
  bit swept;
  if
  :: polled_once == 1            /* any moment after the first poll began */
  :: true -> goto no_shutdown    /* or never: the other checks still apply */
  fi;
  closed = 1;                    /* under sleep_mu, with notify_all */
  workers_stopped == WORKERS;    /* pthread_join each worker */
  do
  :: /* drain the queues: we own each queued task's POLLING */
     do
     :: atomic { queue?_ -> queued-- } ;
        atomic { assert(destroyed == 0); destroyed++ } ;   /* cancel() */
        finish()
     :: empty(queue) -> break
     od;
     /* sweep the registry */
     swept = 1;
     if
     :: atomic { in_registry && state == WAITING -> state = COMPLETE; in_registry = 0 } ;
        atomic { assert(destroyed == 0); destroyed++ }      /* cancel() */
#if defined(BROKEN_CLEANUP_SKIPS_POLLING)
     :: atomic { in_registry && state != WAITING -> skip }
#else
     :: atomic { in_registry && state != WAITING -> assert(REGISTRY_OK); swept = 0 }  /* a waker is queueing it */
#endif
     :: atomic { !in_registry -> skip }
     fi;
     if
     :: swept && len(queue) == 0 -> break
     :: else -> skip               /* yield and go round again */
     fi
  od;
  pool_freed = 1;
no_shutdown:
  skip
}
#endif

// [START monitor]
/* `timeout` is executable only when no other process can move: the workers
 * are idle (or stopped), the wakers are done. */
proctype Monitor() {
  timeout ->
    assert(state == COMPLETE || !wake_unserved);  /* a wake left unpolled */
    assert(state == COMPLETE);     /* the task saw every event, or was destroyed */
    assert(destroyed == 1);        /* the future was destroyed exactly once */
    assert(closed || completed);   /* without shutdown, it finished by a poll */
    assert(queued == 0);
    assert(REGISTRY_OK)
}
// [END monitor]

init {
  atomic {
    push();                      /* pool_spawn: queued (POLLING) */
    run Worker(0); run Worker(1);
    run Waker(0); run Waker(1);
#if WAKERS == 3
    run Waker(2);
#endif
#if defined(SHUTDOWN)
    run Shutdown();
#endif
    run Monitor();
  }
}
