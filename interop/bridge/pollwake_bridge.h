/* interop/bridge/pollwake_bridge.h: the C ABI of pollwake's table store.
 *
 * Models the LanceDB C# bridge pattern: an async Rust library (LanceDB on
 * Tokio) offered to C# through a plain C ABI. A runtime is started lazily
 * on its own thread by the first connect, which waits for a oneshot "I'm
 * here"; connections live in a table and callers hold only handles; every
 * call packs its arguments into one command, sends it over a channel, and a
 * dispatcher on the runtime spawns one task per command; results and the
 * completion come back through callbacks. pollwake keeps that shape with its
 * own parts: a LocalPool on a std::thread is the runtime, poll/mpsc carries
 * a std::variant of commands, poll/oneshot carries the ready signal and the
 * blocking calls' replies, and poll/timer stands in for I/O latency.
 *
 * How it differs, and why: the store is a toy (in-memory tables of
 * (int64 key, string value) rows, lost at shutdown), because the lesson is
 * the bridge, not the database. There is an explicit pwb_shutdown (the
 * pattern leaves Tokio running until the process ends) so that tests can
 * check that every call in flight gets its completion and nothing leaks.
 *
 * Rules a caller may rely on (all tested):
 *  - Completions. Every asynchronous call (the ones taking pwb_done_fn)
 *    calls `done` exactly once, unless `done` is NULL (then the call returns
 *    PWB_INVALID_ARGUMENT and does nothing). If the call is refused at once
 *    (bad argument, runtime not running), `done` runs on the calling thread
 *    before the call returns, and the return value is that same status;
 *    otherwise the call returns PWB_OK and `done` runs later on the runtime
 *    thread. A scan calls `row` once per matching row, all before `done`
 *    (a scan canceled by a shutdown may have delivered some of them).
 *  - Memory. Every pointer argument is read (and copied) before the call
 *    returns; the caller may free it afterwards. Every pointer the library
 *    passes to a callback (message, row value) is valid only during that
 *    callback: copy what you keep. `user_data` is never dereferenced.
 *  - Threads. Any function may be called from any thread, concurrently. The
 *    callbacks of accepted calls run on the runtime thread, one at a time;
 *    a callback must not block for long (it stalls every other call) and
 *    must not throw or longjmp. From inside a callback the asynchronous
 *    calls may be used freely; the blocking calls and pwb_shutdown return
 *    PWB_WOULD_DEADLOCK (they would wait for the thread they run on). So
 *    does pwb_connect whenever it would have to start a runtime and wait
 *    for it: from a callback while the runtime is stopping, and from inside
 *    a pollwake executor when no runtime runs.
 *  - A callback that throws. A C++ exception leaving a `done` or `row`
 *    callback (on any thread, through either API) is caught at the one
 *    noexcept boundary around every callback: the library writes
 *    "pollwake bridge: a done|row callback threw a C++ exception; ..." to
 *    stderr and calls std::terminate. It is never turned into a status and
 *    never unwinds into the caller. A longjmp out of a callback cannot be
 *    detected: it is undefined behavior (it skips the library's unlocks and
 *    its one completion).
 *  - Fairness. The runtime thread works in turns of at most
 *    PWB_RUNTIME_BUDGET units: its dispatcher takes at most that many
 *    commands from the channel per turn, and a scan examines at most that
 *    many rows per turn; then each yields to the tasks queued behind it. So
 *    callers flooding the bridge with calls cannot hold up the calls already
 *    running, and a long scan cannot hold up new calls. Hence the callbacks
 *    of other calls may run between two rows of one scan.
 *  - Handles. A pwb_conn is a 64-bit value: the slot id in the high 32 bits,
 *    the slot's generation in the low 32. Handles are NOT capabilities: they
 *    are small and guessable (ids count up from 1 and are reused, each
 *    generation counts up from 1 by one per close), and any code in the
 *    process that names the handle of an open connection reaches that
 *    connection and its database. What the table detects, each with
 *    PWB_BAD_HANDLE and never a crash: the zero handle; an id never handed
 *    out; a generation newer than its slot's ("forged"); and a closed
 *    handle, i.e. an older generation or an empty slot, so a handle kept
 *    after close never reaches the connection that reuses its slot, and a
 *    handle from before a shutdown is stale after a restart. A slot whose
 *    generation reaches 2^32 - 1 is never reused, so no handle comes back.
 *    Connections with the same uri share one database while the runtime
 *    runs.
 *  - Shutdown. pwb_shutdown stops the runtime and joins its thread; every
 *    call still in flight completes with PWB_CANCELED (on the runtime
 *    thread, before pwb_shutdown returns): once pwb_shutdown has begun, the
 *    runtime starts no queued call and continues no running one (a call
 *    whose operation already finished has completed). Afterwards every call except
 *    connect gets PWB_NOT_RUNNING; a later connect starts a new runtime
 *    (a connect that races a shutdown may itself get PWB_NOT_RUNNING: it
 *    found the runtime running, and the shutdown stopped it before the
 *    connect's command was sent).
 *    Call pwb_shutdown before the process exits or the library is unloaded.
 *  - No back-pressure: an asynchronous call never waits for the runtime
 *    (the channel is unbounded), so a caller can have any number in flight.
 *  - Nothing unwinds across this ABI: every failure is a status (a call
 *    that fails inside the library, e.g. out of memory, returns
 *    PWB_INTERNAL and its `done` receives PWB_INTERNAL too), except a
 *    throwing callback, which ends the process (above).
 *  - The runtime failing. If the runtime's run loop itself throws (a bug
 *    in the library or its executor; not a callback, not a failed
 *    operation), the runtime thread stops: every call it had accepted and
 *    not completed gets PWB_INTERNAL with the message "internal error: the
 *    runtime's run loop threw (...) and the runtime thread stopped; the
 *    call was not run; pwb_shutdown resets the bridge", and so does every
 *    later call, connect included (never PWB_CANCELED or PWB_NOT_RUNNING:
 *    nobody shut it down). pwb_shutdown then joins the stopped thread and
 *    returns PWB_OK, open handles turn stale, and a later connect starts a
 *    new runtime.
 */
#ifndef POLLWAKE_INTEROP_BRIDGE_POLLWAKE_BRIDGE_H_
#define POLLWAKE_INTEROP_BRIDGE_POLLWAKE_BRIDGE_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define PWB_API __attribute__((visibility("default")))
#else
#define PWB_API
#endif

/* Status codes (the library maps its internal absl::Status codes to these;
 * see the table in bridge.cc). */
typedef int32_t pwb_status;
#define PWB_OK 0
#define PWB_CANCELED 1           /* the runtime shut down before the call finished */
#define PWB_INVALID_ARGUMENT 2   /* NULL / empty / too long argument */
#define PWB_BAD_HANDLE 3         /* zero, unknown, forged, closed or stale handle */
#define PWB_NOT_FOUND 4          /* no such table */
#define PWB_ALREADY_EXISTS 5     /* create_table: the table exists */
#define PWB_RESOURCE_EXHAUSTED 6 /* a limit below was reached */
#define PWB_NOT_RUNNING 7        /* no runtime (never connected, or shut down) */
#define PWB_WOULD_DEADLOCK 8     /* a blocking call from the runtime thread or an executor */
#define PWB_INTERNAL 9           /* an unexpected failure (out of memory, the runtime failing) */

/* Limits: exceeding one gives PWB_INVALID_ARGUMENT (sizes of one call) or
 * PWB_RESOURCE_EXHAUSTED (totals). */
#define PWB_MAX_NAME_LEN 256          /* uri and table names, bytes */
#define PWB_MAX_VALUE_LEN 65536       /* one row's value, bytes */
#define PWB_MAX_ROWS_PER_INSERT 65536
#define PWB_MAX_ROWS_PER_TABLE 1048576
#define PWB_MAX_TABLES_PER_DB 1024
#define PWB_MAX_CONNECTIONS 65536
#define PWB_MAX_LATENCY_US 1000000    /* connect's simulated I/O latency */

/* The runtime's turn (see Fairness above): commands dispatched, or rows a
 * scan examines, before the task doing it yields to the others. */
#define PWB_RUNTIME_BUDGET 128

/* A connection handle; 0 is never valid. */
typedef uint64_t pwb_conn;

/* done(user_data, status, message, value): exactly once per accepted call.
 * message: "" on PWB_OK, else why (valid during the call only). value:
 * connect: the new pwb_conn; insert: rows inserted; count: the row count;
 * scan: rows delivered; others 0. */
typedef void (*pwb_done_fn)(void* user_data, pwb_status status, const char* message,
                            uint64_t value);

/* row(user_data, key, value, value_len): one matching row of a scan.
 * value is NUL-terminated as well (value_len excludes the NUL); valid
 * during the call only. */
typedef void (*pwb_row_fn)(void* user_data, int64_t key, const char* value, size_t value_len);

/* A scan's filter: key_min <= key <= key_max, and, if `contains` is not
 * NULL, the value contains that substring. A NULL filter matches all. */
typedef struct pwb_filter {
  int64_t key_min;
  int64_t key_max;
  const char* contains;
} pwb_filter;

/* The name of a status code ("PWB_OK", ...); "PWB_UNKNOWN" otherwise. */
PWB_API const char* pwb_status_name(pwb_status status);

/* ---- Callback API ---------------------------------------------------- */

/* Opens a connection to the in-memory database `uri` (starting the runtime
 * if none runs). Every later operation on it first waits `latency_us`
 * microseconds on the runtime's timer, as a network round trip would. */
PWB_API pwb_status pwb_connect(const char* uri, uint32_t latency_us, pwb_done_fn done,
                               void* user_data);
PWB_API pwb_status pwb_create_table(pwb_conn conn, const char* table, pwb_done_fn done,
                                    void* user_data);
/* Appends n rows (keys[i], values[i]); values[i] NUL-terminated. */
PWB_API pwb_status pwb_insert(pwb_conn conn, const char* table, const int64_t* keys,
                              const char* const* values, size_t n, pwb_done_fn done,
                              void* user_data);
PWB_API pwb_status pwb_count(pwb_conn conn, const char* table, pwb_done_fn done,
                             void* user_data);
/* Calls row() for each matching row in insertion order, then done(). */
PWB_API pwb_status pwb_scan(pwb_conn conn, const char* table, const pwb_filter* filter,
                            pwb_row_fn row, pwb_done_fn done, void* user_data);
/* Closes the connection; calls already in flight on it that have not yet
 * run get PWB_BAD_HANDLE. */
PWB_API pwb_status pwb_close(pwb_conn conn, pwb_done_fn done, void* user_data);
/* A no-op round trip through the channel and a task (no latency). */
PWB_API pwb_status pwb_ping(pwb_done_fn done, void* user_data);

/* ---- Blocking API ---------------------------------------------------- */
/* Each sends the same command and waits for its reply on a oneshot. The
 * status is the return value; `message` (may be NULL) receives the message,
 * truncated to message_cap - 1 bytes and NUL-terminated; `out` (may be NULL)
 * receives the value done() would have had. A blocking scan calls row() on
 * the runtime thread while the caller waits. */
PWB_API pwb_status pwb_connect_blocking(const char* uri, uint32_t latency_us, pwb_conn* out,
                                        char* message, size_t message_cap);
PWB_API pwb_status pwb_create_table_blocking(pwb_conn conn, const char* table, char* message,
                                             size_t message_cap);
PWB_API pwb_status pwb_insert_blocking(pwb_conn conn, const char* table, const int64_t* keys,
                                       const char* const* values, size_t n, uint64_t* out,
                                       char* message, size_t message_cap);
PWB_API pwb_status pwb_count_blocking(pwb_conn conn, const char* table, uint64_t* out,
                                      char* message, size_t message_cap);
PWB_API pwb_status pwb_scan_blocking(pwb_conn conn, const char* table, const pwb_filter* filter,
                                     pwb_row_fn row, void* user_data, uint64_t* out,
                                     char* message, size_t message_cap);
PWB_API pwb_status pwb_close_blocking(pwb_conn conn, char* message, size_t message_cap);
PWB_API pwb_status pwb_ping_blocking(void);

/* ---- Lifecycle ------------------------------------------------------- */

/* Stops the runtime (see Shutdown above). PWB_OK, also when none runs;
 * PWB_WOULD_DEADLOCK from the runtime thread. Concurrent calls wait for
 * the one that stops it. */
PWB_API pwb_status pwb_shutdown(void);
/* Diagnostics: how many times a runtime thread was started since load; how
 * many connections are open now; how many calls have been sent to the
 * runtime and not yet completed (once a call is counted, a shutdown that
 * follows cancels it rather than refusing it). */
PWB_API uint64_t pwb_runtime_starts(void);
PWB_API uint64_t pwb_open_connections(void);
PWB_API uint64_t pwb_calls_in_flight(void);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif  /* POLLWAKE_INTEROP_BRIDGE_POLLWAKE_BRIDGE_H_ */
