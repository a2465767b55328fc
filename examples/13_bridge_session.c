// examples/13_bridge_session.c: a C11 client of the C ABI bridge
// (interop/bridge/pollwake_bridge.h), traced: the callback API, the
// blocking API, a bad handle, and a shutdown with a call in flight.
//
//   bash .ci/tour.sh 13        (or: bazel run //examples:13_bridge_session)
//
// This is the LanceDB C# bridge pattern seen from the client's side: the
// client knows nothing of futures. It calls plain C functions; the first
// connect starts a runtime thread (a pollwake LocalPool) and waits for its
// "I'm here"; every call becomes a command on a channel and a task on that
// runtime; results come back through callbacks, which run on the runtime
// thread, or, with the blocking calls, as return values. docs/07_bridge.md
// walks through the same session.
//
// Two threads print: `main` (this program's thread) and `runtime` (the
// bridge's thread, running our callbacks). main waits after every
// asynchronous call until its completion has arrived, so the order of the
// lines is fixed. Each trace line is numbered; `// (n)` marks the statement
// that prints [n], and examples/13_bridge_session.expected holds the output.

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "interop/bridge/pollwake_bridge.h"

static pthread_mutex_t g_print_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_t g_main;
static int g_step = 0;

// trace: "[n] main: ..." or "[n] runtime: ...", by the calling thread.
static void trace(const char* format, ...) {
  pthread_mutex_lock(&g_print_mu);
  printf("[%d] %s: ", ++g_step, pthread_equal(pthread_self(), g_main) ? "main" : "runtime");
  va_list args;
  va_start(args, format);
  vprintf(format, args);
  va_end(args);
  printf("\n");
  fflush(stdout);
  pthread_mutex_unlock(&g_print_mu);
}

// [START waiter]
// A call's user_data: the client's own record of it. The library never
// looks inside; it hands the pointer back to our callbacks.
struct waiter {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int done;          // under mu: the completion has arrived
  pwb_status status;
  uint64_t value;
};

static void on_done(void* user_data, pwb_status status, const char* message, uint64_t value) {
  struct waiter* w = user_data;
  // `message` is valid only during this call: print it (or copy it) now.
  trace("done(%s, \"%s\", value %" PRIu64 ")", pwb_status_name(status), message,
        value);  // (2) (6) (10) (17) (19)
  pthread_mutex_lock(&w->mu);
  w->done = 1;
  w->status = status;
  w->value = value;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

static void on_row(void* user_data, int64_t key, const char* value, size_t len) {
  (void)user_data;
  trace("row(key %" PRId64 ", \"%.*s\")", key, (int)len, value);  // (8) (9)
}

// Waits for the completion, at most 10 s (a lost completion fails loudly).
static void wait_for(struct waiter* w) {
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += 10;
  pthread_mutex_lock(&w->mu);
  while (!w->done) {
    if (pthread_cond_timedwait(&w->cv, &w->mu, &deadline) != 0) {
      fprintf(stderr, "13_bridge_session: a completion never arrived\n");
      exit(1);
    }
  }
  w->done = 0;  // ready for the next call
  pthread_mutex_unlock(&w->mu);
}
// [END waiter]

int main(void) {
  g_main = pthread_self();
  struct waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0};
  char msg[128];

  // [START callback_api]
  // The callback API: connect returns at once; the handle arrives in done.
  trace("runtimes started: %" PRIu64 "; pwb_connect(\"shop\", 500 us latency)",
        pwb_runtime_starts());  // (1)
  pwb_status s = pwb_connect("shop", 500, on_done, &w);  // PWB_OK: accepted
  wait_for(&w);
  const pwb_conn shop = w.value;
  trace("handle: slot %u, generation %u", (unsigned)(shop >> 32), (unsigned)shop);  // (3)
  // [END callback_api]

  // [START blocking_api]
  // The blocking API: the same command; this thread waits on a oneshot.
  s = pwb_create_table_blocking(shop, "fruit", msg, sizeof msg);
  trace("pwb_create_table_blocking(\"fruit\") -> %s", pwb_status_name(s));  // (4)
  // [END blocking_api]

  const int64_t keys[] = {1, 2, 3};
  const char* const names[] = {"apple", "banana", "cherry"};
  trace("pwb_insert(3 rows): copied before it returns");  // (5)
  s = pwb_insert(shop, "fruit", keys, names, 3, on_done, &w);
  wait_for(&w);

  // [START scan]
  // Rows arrive one callback each, on the runtime thread, before done.
  const pwb_filter from_two = {2, INT64_MAX, NULL};
  trace("pwb_scan(key >= 2)");  // (7)
  s = pwb_scan(shop, "fruit", &from_two, on_row, on_done, &w);
  wait_for(&w);
  // [END scan]

  uint64_t n = 0;
  s = pwb_count_blocking(shop, "fruit", &n, msg, sizeof msg);
  trace("pwb_count_blocking -> %s, %" PRIu64 " rows", pwb_status_name(s), n);  // (11)

  // [START bad_handle]
  // A forged handle (right slot, wrong generation) is refused, as is the
  // real one after close: an error code, never a crash or someone's data.
  s = pwb_count_blocking(shop + 1, "fruit", &n, msg, sizeof msg);
  trace("pwb_count_blocking(forged handle) -> %s: %s", pwb_status_name(s), msg);  // (12)
  s = pwb_close_blocking(shop, msg, sizeof msg);
  trace("pwb_close_blocking -> %s", pwb_status_name(s));  // (13)
  s = pwb_count_blocking(shop, "fruit", &n, msg, sizeof msg);
  trace("pwb_count_blocking(closed handle) -> %s: %s", pwb_status_name(s), msg);  // (14)
  // [END bad_handle]

  // [START shutdown]
  // A slow connection (1 s per call); shut down while a count is in
  // flight: its done runs with PWB_CANCELED before pwb_shutdown returns.
  pwb_conn slow = 0;
  s = pwb_connect_blocking("shop", 1000000, &slow, msg, sizeof msg);
  trace("pwb_connect_blocking(1 s latency) -> %s", pwb_status_name(s));  // (15)
  s = pwb_count(slow, "fruit", on_done, &w);
  trace("pwb_count -> %s (in flight for 1 s); pwb_shutdown()", pwb_status_name(s));  // (16)
  s = pwb_shutdown();
  trace("pwb_shutdown -> %s: the runtime thread has been joined", pwb_status_name(s));  // (18)
  wait_for(&w);  // already done

  // After shutdown: refused at once, done runs on this thread.
  s = pwb_ping(on_done, &w);
  trace("pwb_ping after shutdown -> %s (its done ran first)", pwb_status_name(s));  // (20)
  wait_for(&w);
  // [END shutdown]
  trace("runtimes started: %" PRIu64 "; end", pwb_runtime_starts());  // (21)
  return 0;
}
