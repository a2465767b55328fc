/* interop/ffi/c_executor/c_executor.c: an executor in plain C11 for futures
 * that cross the C ABI of the async-ffi crate (async_ffi.h). It plays the
 * role of futures::executor::block_on for a host that has no Rust and no C++:
 * it polls the future, and between polls sleeps on a condition variable until
 * its waker is woken, from any thread.
 *
 *   c_executor PLUGIN [SYMBOL [A B [REPEAT]]]
 *
 * dlopens PLUGIN, looks up SYMBOL (default plugin_run), an
 *   FfiFuture_u32 SYMBOL(uint32_t a, uint32_t b),
 * and awaits it REPEAT times (default 1), printing `SYMBOL(A, B) = N` for each
 * Ready, or `SYMBOL(A, B) panicked` for Panicked (exit status 3).
 * Exit status 2: the plugin or symbol is missing (the message names it);
 * 4: no wake arrived within 10 s of a Pending (a lost wake); 5: poll_fn
 * answered a tag that is not FfiPoll's (`unknown tag N` on stderr).
 *
 * The waker is one heap object, reference counted, shared by all clones
 * (clone is an increment, as for a Rust Arc waker): a mutex, a condition
 * variable and a `woken` flag. pthreads rather than C11 <threads.h>: glibc
 * implements the latter on the former internally, out of ThreadSanitizer's
 * sight. */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "interop/ffi/async_ffi.h"

// [START c_waker]
typedef struct Notifier {
  FfiWakerBase base; /* first: the foreign side sees only this */
  atomic_size_t refs;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool woken; /* written under mu */
} Notifier;

/* SAFETY: every FfiWakerBase this file hands out is the first member of a
 * Notifier, so the cast back is exact. */
static Notifier* notifier_of(const FfiWakerBase* b) { return (Notifier*)b; }

static const FfiWakerBase* notifier_clone(const FfiWakerBase* b) {
  /* ORDERING: relaxed, as Arc::clone: the caller holds a reference. */
  atomic_fetch_add_explicit(&notifier_of(b)->refs, 1, memory_order_relaxed);
  return b;
}

static void notifier_drop(const FfiWakerBase* b) {
  Notifier* n = notifier_of(b);
  /* ORDERING: release, so this holder's uses happen before the free; the
   * acquire fence lets the last holder see all of them. */
  if (atomic_fetch_sub_explicit(&n->refs, 1, memory_order_release) == 1) {
    atomic_thread_fence(memory_order_acquire);
    pthread_cond_destroy(&n->cv);
    pthread_mutex_destroy(&n->mu);
    free(n);
  }
}

static void notifier_wake_by_ref(const FfiWakerBase* b) {
  Notifier* n = notifier_of(b);
  pthread_mutex_lock(&n->mu);
  n->woken = true; /* under mu: the sleeper checks it under mu, so no wake is lost */
  pthread_cond_signal(&n->cv);
  pthread_mutex_unlock(&n->mu);
}

static void notifier_wake(const FfiWakerBase* b) {
  notifier_wake_by_ref(b);
  notifier_drop(b);
}

static const FfiWakerVTable kNotifierVTable = {
    notifier_clone, notifier_wake, notifier_wake_by_ref, notifier_drop};
// [END c_waker]

static Notifier* notifier_new(void) {
  Notifier* n = malloc(sizeof *n);
  if (n == NULL) return NULL;
  n->base.vtable = &kNotifierVTable;
  atomic_init(&n->refs, 1);
  pthread_mutex_init(&n->mu, NULL);
  /* The 10 s deadline is measured on the monotonic clock, so a change of
   * the wall clock neither cuts it short nor stretches it. */
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&n->cv, &attr);
  pthread_condattr_destroy(&attr);
  n->woken = false;
  return n;
}

/* Sleeps until woken; false when 10 s pass without a wake. Consumes the
 * wake, so the next Pending waits for a new one. */
static bool notifier_wait(Notifier* n) {
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline); /* the condvar's clock */
  deadline.tv_sec += 10;
  bool woken = true;
  pthread_mutex_lock(&n->mu);
  while (!n->woken) {
    if (pthread_cond_timedwait(&n->cv, &n->mu, &deadline) == ETIMEDOUT && !n->woken) {
      woken = false;
      break;
    }
  }
  n->woken = false;
  pthread_mutex_unlock(&n->mu);
  return woken;
}

typedef FfiFuture_u32 (*PluginFn)(uint32_t a, uint32_t b);

// [START c_block_on]
/* Polls `fut` until it is Ready or Panicked; drops it either way. Returns
 * FFI_POLL_READY (and *out), FFI_POLL_PANICKED, -1 on a lost wake, or -2
 * for a tag that is not FfiPoll's (in *out). */
static int block_on_u32(FfiFuture_u32 fut, Notifier* n, uint32_t* out) {
  FfiContext cx = {&n->base}; /* borrowed by poll_fn for one call */
  int result;
  for (;;) {
    FfiPoll_u32 p = fut.poll_fn(fut.fut_ptr, &cx);
    if (p.tag == FFI_POLL_READY) {
      *out = p.ready;
      result = FFI_POLL_READY;
      break;
    }
    if (p.tag == FFI_POLL_PANICKED) {
      result = FFI_POLL_PANICKED;
      break;
    }
    if (p.tag != FFI_POLL_PENDING) {
      *out = p.tag;
      result = -2;
      break;
    }
    if (!notifier_wait(n)) {
      result = -1;
      break;
    }
  }
  fut.drop_fn(fut.fut_ptr);
  return result;
}
// [END c_block_on]

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s PLUGIN [SYMBOL [A B [REPEAT]]]\n", argv[0]);
    return 2;
  }
  const char* symbol = argc > 2 ? argv[2] : "plugin_run";
  uint32_t a = argc > 4 ? (uint32_t)strtoul(argv[3], NULL, 10) : 20;
  uint32_t b = argc > 4 ? (uint32_t)strtoul(argv[4], NULL, 10) : 22;
  long repeat = argc > 5 ? strtol(argv[5], NULL, 10) : 1;

  void* lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) {
    fprintf(stderr, "c_executor: cannot load plugin '%s': %s\n", argv[1], dlerror());
    return 2;
  }
  dlerror();
  void* sym = dlsym(lib, symbol);
  if (sym == NULL) {
    fprintf(stderr, "c_executor: plugin '%s' has no symbol '%s'\n", argv[1], symbol);
    return 2;
  }
  PluginFn fn;
  /* SAFETY: POSIX allows converting a dlsym result to a function pointer;
   * the signature is this program's contract with the plugin. */
  memcpy(&fn, &sym, sizeof fn);

  Notifier* n = notifier_new();
  if (n == NULL) return 1;
  int status = 0;
  for (long i = 0; i < repeat && status == 0; ++i) {
    uint32_t value = 0;
    int r = block_on_u32(fn(a, b), n, &value);
    if (r == FFI_POLL_READY) {
      printf("%s(%u, %u) = %u\n", symbol, a, b, value);
    } else if (r == FFI_POLL_PANICKED) {
      printf("%s(%u, %u) panicked\n", symbol, a, b);
      status = 3;
    } else if (r == -2) {
      fprintf(stderr, "c_executor: %s(%u, %u): poll_fn answered unknown tag %u\n", symbol, a, b, value);
      status = 5;
    } else {
      fprintf(stderr, "c_executor: no wake within 10 s (round %ld): a lost wake\n", i);
      status = 4;
    }
  }
  notifier_drop(&n->base);
  /* The plugin stays loaded: its threads may still be finishing. */
  return status;
}
