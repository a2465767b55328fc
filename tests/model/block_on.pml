/* tests/model/block_on.pml
 *
 * A Promela model (for Debian's `spin`) of block_on's park/unpark protocol:
 * the Parker of executor/parker.h (states kEmpty, kNotified, kParked; Rust's
 * futex parker uses the same three) under the block_on loop, which polls its
 * future and, when the poll returns Pending, parks until a waker on another
 * thread unparks it. futures-rs does the same with its ThreadNotify and an
 * `unparked` flag (futures-executor/src/local_pool.rs, run_executor).
 *
 * Two of the Parker's sleep strategies are modelled, chosen at spin time:
 *   (default)   FutexPark: std::atomic wait/notify. A futex wait sleeps only
 *               if the value still equals kParked, checked atomically with
 *               going to sleep; a notify with nobody asleep does nothing.
 *   -DCONDVAR   CondvarPark: a mutex and a condition variable; a notify with
 *               no thread waiting is lost, as with std::condition_variable.
 *   -DSPIN      SpinThenPark: a few attempts to consume kNotified, then as
 *               FutexPark.
 * Both sleeps may end spuriously (a bounded number of times, so the model
 * terminates); the Parker loops on its state, so that must be harmless.
 *
 * Checked (spin -a, cc -DSAFETY, ./pan): every assert below, and that no
 * process is left blocked outside an `end` label.
 *   - no lost wakeup: when nothing can move any more, block_on has returned,
 *     and no wake is left without a poll that started after it.
 *
 * Deliberately broken variants (each MUST fail the check; see
 * wake_protocol_model_test.cc):
 *   -DBROKEN_PARK_WITHOUT_FLAG   park goes to sleep without looking at the
 *                                state, so an unpark that came first is lost
 *   -DBROKEN_NOTIFY_WITHOUT_LOCK (with -DCONDVAR) unpark notifies without
 *                                taking the parker's mutex, so the notify can
 *                                fall between the sleeper's check and its wait
 *   -DBROKEN_CLEAR_AFTER_POLL    block_on calls reset() after every poll
 *                                instead of once per call, forgetting a wake
 *                                that arrived during the poll
 *
 * What the model leaves out: the future itself (reduced to "ready once it
 * has seen every event"), memory ordering (every step here is sequentially
 * consistent; TSan checks the C++), the enter guard.
 */

#define kEmpty    0   /* -> kParked (park sleeps), kNotified (early unpark) */
#define kNotified 1   /* -> kEmpty (park consumes it) */
#define kParked   2   /* -> kNotified (unpark); UINT32_MAX in the C++ */

#ifndef WAKERS
#define WAKERS 2
#endif
#ifndef ROUNDS
#define ROUNDS 2      /* events (and wakes) per waker */
#endif
#define TOTAL (WAKERS * ROUNDS)
#define SPURIOUS 1    /* spurious wakeups the sleep may deliver */
#define SPINS 2       /* SpinThenPark's attempts (kSpins in the C++) */

byte state = kEmpty;      /* Parker::state_ */
bit mu = 0;               /* CondvarPark's mutex: 1 while held */
bit sleeping = 0;         /* the owner is asleep (futex wait or cv wait) */
byte spurious = SPURIOUS;

byte events = 0;          /* how many events the wakers made happen */
bit polled_once = 0;      /* the first poll has started: wakers may run */
bit wake_unserved = 0;    /* ghost: a wake happened after the latest poll began */
bit done = 0;             /* block_on returned */

inline lock() { atomic { mu == 0 -> mu = 1 } }
inline unlock() { mu = 0 }

/* The owner sleeps until notify_one, or wakes spuriously. For a futex the
 * caller has already put itself to sleep atomically with its value check. */
inline sleep_until_notified() {
  if
  :: atomic { sleeping == 0 -> skip }
  :: atomic { sleeping == 1 && spurious > 0 -> spurious--; sleeping = 0 }
  fi
}

/* notify_one (futex or condition variable): wakes the sleeper if asleep. */
inline notify_one() {
  atomic {
    if
    :: sleeping == 1 -> sleeping = 0
    :: else -> skip
    fi
  }
}

/* std::atomic::wait(kParked): sleeps only if the state is still kParked. */
inline futex_wait() {
  atomic {
    if
    :: state == kParked -> sleeping = 1
    :: else -> skip
    fi
  };
  sleep_until_notified()
}

/* std::condition_variable::wait: releases the mutex and starts sleeping in
 * one step; takes the mutex again when it wakes. */
inline cv_wait() {
  atomic { mu = 0; sleeping = 1 };
  sleep_until_notified();
  lock()
}

/* Parker::park */
inline park() {
#if defined(BROKEN_PARK_WITHOUT_FLAG)
  atomic { state = kParked; sleeping = 1 };
  sleep_until_notified();
  atomic { state == kNotified -> state = kEmpty }
#elif defined(CONDVAR)
  lock();
  if
  :: atomic { state == kEmpty -> state = kParked } ;
     /* cv_.wait(lock, pred): while (!pred()) wait; pred = CAS kNotified -> kEmpty */
     do
     :: atomic { state == kNotified -> state = kEmpty } ; break
     :: atomic { state != kNotified -> skip } ; cv_wait()
     od
  :: atomic { state == kNotified -> skip } ;  /* the CAS failed on kNotified */
     state = kEmpty                           /* a separate relaxed store */
  fi;
  unlock()
#else
#if defined(SPIN)
  byte spins = 0;
  do
  :: spins < SPINS ->
     if
     :: atomic { state == kNotified -> state = kEmpty } ; goto parked
     :: atomic { state != kNotified -> spins++ }
     fi
  :: else -> break
  od;
#endif
  /* fetch_sub(1): kNotified -> kEmpty (return at once), kEmpty -> kParked */
  if
  :: atomic { state == kNotified -> state = kEmpty }
  :: atomic { state == kEmpty -> state = kParked } ;
     do
     :: futex_wait();
        if
        :: atomic { state == kNotified -> state = kEmpty } ; break
        :: atomic { state != kNotified -> skip }
        fi
     od
  fi;
#if defined(SPIN)
parked: skip
#endif
#endif
}

/* Parker::unpark: what the block_on waker's wake / wake_by_ref do. */
inline unpark() {
  byte old;
  atomic { old = state; state = kNotified };   /* exchange(kNotified) */
  if
  :: old == kParked ->
#if defined(CONDVAR) && !defined(BROKEN_NOTIFY_WITHOUT_LOCK)
     /* take the mutex so that the notify cannot fall between the sleeper's
      * check of the state and its wait */
     lock(); unlock();
#endif
     notify_one()
  :: else -> skip
  fi
}

proctype Waker() {
  byte i = 0;
  polled_once == 1;              /* it holds a clone of the waker the poll gave out */
  do
  :: i < ROUNDS ->
     events++;                   /* the event happens (e.g. a channel send) */
     wake_unserved = 1;
     unpark();
     i++
  :: else -> break
  od
}

// [START block_on]
proctype BlockOn() {
  byte seen;
  state = kEmpty;                /* reset(): once, when block_on starts */
poll:
  atomic {
    polled_once = 1;
    wake_unserved = 0;
    seen = events                /* the future looks at the world */
  };
  if
  :: seen == TOTAL -> done = 1   /* Ready: block_on returns */
  :: else ->
#if defined(BROKEN_CLEAR_AFTER_POLL)
     state = kEmpty;             /* reset() on every turn */
#endif
     park();
     goto poll
  fi
}
// [END block_on]

/* `timeout` is executable only when no other process can move. */
proctype Monitor() {
  timeout ->
    assert(done || !wake_unserved);  /* a wake left unpolled */
    assert(done)                     /* block_on saw every event and returned */
}

init {
  atomic {
    run BlockOn();
    run Waker(); run Waker();
    run Monitor();
  }
}
