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
// asynchronous call until its completion has arrived, and the shutdown is
// ordered by a gate, not by a latency, so the order of the lines is fixed
// however slow the machine. Each trace line is numbered; `// (n)` marks the statement
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
        value);  // (2) (6) (10) (19) (21)
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

// Waits until *flag is set (under mu), then clears it. The bound is a
// watchdog, not a timing assumption: nothing here waits for time to pass,
// and a lost completion fails loudly instead of hanging.
#define WATCHDOG_SECONDS 60
static void wait_flag(pthread_mutex_t* mu, pthread_cond_t* cv, int* flag, const char* what) {
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += WATCHDOG_SECONDS;
  pthread_mutex_lock(mu);
  while (!*flag) {
    if (pthread_cond_timedwait(cv, mu, &deadline) != 0) {
      fprintf(stderr, "13_bridge_session: %s never happened\n", what);
      exit(1);
    }
  }
  *flag = 0;  // ready for the next time
  pthread_mutex_unlock(mu);
}

static void wait_for(struct waiter* w) { wait_flag(&w->mu, &w->cv, &w->done, "a completion"); }
// [END waiter]

// [START gate]
// The gate: a ping whose done callback holds the runtime thread until
// pwb_shutdown has begun, which it learns by probing with pwb_ping: from
// then on the bridge refuses calls with PWB_NOT_RUNNING, and the runtime
// starts no call still queued. A real client must not block in a callback
// (it stalls every other call); this one does, so that the order of the
// session is certain rather than likely on a busy machine.
struct gate {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int holding;   // under mu: the callback holds the runtime thread
  int released;  // under mu: main is about to call pwb_shutdown
};

static void ignore_done(void* user_data, pwb_status status, const char* message, uint64_t value) {
  (void)user_data, (void)status, (void)message, (void)value;
}

static void hold_runtime(void* user_data, pwb_status status, const char* message,
                         uint64_t value) {
  struct gate* g = user_data;
  (void)status, (void)message, (void)value;
  trace("done(ping): the gate holds the runtime thread");  // (16)
  pthread_mutex_lock(&g->mu);
  g->holding = 1;
  pthread_cond_signal(&g->cv);
  pthread_mutex_unlock(&g->mu);
  wait_flag(&g->mu, &g->cv, &g->released, "the gate's release");
  // Probes sent before the shutdown begins are accepted, and canceled by
  // it (ignore_done); the pause only spares the CPU.
  const struct timespec pause = {0, 100 * 1000};
  for (int tries = 0; pwb_ping(ignore_done, NULL) != PWB_NOT_RUNNING; ++tries) {
    if (tries == WATCHDOG_SECONDS * 10000) {
      fprintf(stderr, "13_bridge_session: the shutdown never began\n");
      exit(1);
    }
    nanosleep(&pause, NULL);
  }
  trace("pwb_ping -> PWB_NOT_RUNNING: shutdown has begun; the gate lets go");  // (18)
}
// [END gate]

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
  // A made-up handle (right slot, a generation not yet issued) is refused
  // as forged, and the real one after close as closed: an error code, never
  // a crash. (At (15) the same made-up number becomes a live handle.)
  s = pwb_count_blocking(shop + 1, "fruit", &n, msg, sizeof msg);
  trace("pwb_count_blocking(forged handle) -> %s: %s", pwb_status_name(s), msg);  // (12)
  s = pwb_close_blocking(shop, msg, sizeof msg);
  trace("pwb_close_blocking -> %s", pwb_status_name(s));  // (13)
  s = pwb_count_blocking(shop, "fruit", &n, msg, sizeof msg);
  trace("pwb_count_blocking(closed handle) -> %s: %s", pwb_status_name(s), msg);  // (14)
  // [END bad_handle]

  // [START shutdown]
  // Shut down with a call in flight: its done runs with PWB_CANCELED
  // before pwb_shutdown returns. The gate (above) holds the runtime thread
  // meanwhile, so the count is certainly still queued when shutdown begins.
  pwb_conn again = 0;
  s = pwb_connect_blocking("shop", 0, &again, msg, sizeof msg);
  // The freed slot is reused with the next generation: the number refused
  // as forged at (12) now names this connection. Handles are guessable, not
  // capabilities; the table only catches stale and never-issued ones.
  trace("pwb_connect_blocking(\"shop\") -> %s: slot %u, generation %u%s", pwb_status_name(s),
        (unsigned)(again >> 32), (unsigned)again,
        again == shop + 1 ? " (the number refused at [12])" : "");  // (15)
  struct gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
  s = pwb_ping(hold_runtime, &g);
  wait_flag(&g.mu, &g.cv, &g.holding, "the gate's hold");
  s = pwb_count(again, "fruit", on_done, &w);
  trace("pwb_count -> %s (queued: the runtime is held); pwb_shutdown()",
        pwb_status_name(s));  // (17)
  pthread_mutex_lock(&g.mu);
  g.released = 1;
  pthread_cond_signal(&g.cv);
  pthread_mutex_unlock(&g.mu);
  s = pwb_shutdown();
  trace("pwb_shutdown -> %s: the runtime thread has been joined", pwb_status_name(s));  // (20)
  wait_for(&w);  // already done

  // After shutdown: refused at once, done runs on this thread.
  s = pwb_ping(on_done, &w);
  trace("pwb_ping after shutdown -> %s (its done ran first)", pwb_status_name(s));  // (22)
  wait_for(&w);
  // [END shutdown]
  trace("runtimes started: %" PRIu64 "; end", pwb_runtime_starts());  // (23)
  return 0;
}
