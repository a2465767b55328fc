// interop/bridge/bridge.cc: the C ABI of pollwake_bridge.h, implemented on
// pollwake's LocalPool, mpsc, oneshot and Timer.
//
// Models the LanceDB C# bridge pattern (see the header). A call travels:
//
//   caller thread                         runtime thread (LocalPool)
//   pwb_count(conn, "t", done, ud)
//     copies args into CountCmd{..., Completion{done, ud}}
//     Bridge::Submit: tx.unbounded_send(Command) ---> Dispatcher task:
//     returns PWB_OK                                    rx.poll_next -> Command
//                                                       std::visit: spawn OpTask<CountCmd>
//                                                     OpTask: look up the handle,
//                                                       await timer.sleep(latency),
//                                                       run the operation,
//                                                       Completion::Finish -> done(ud, ...)
//
// The blocking calls put a oneshot::Sender<Reply> in the Completion instead
// of a C callback and block_on the receiver.
//
// Status mapping at the edge (absl::StatusCode -> C code):
//   kOk -> PWB_OK                 kCancelled -> PWB_CANCELED
//   kInvalidArgument -> PWB_INVALID_ARGUMENT
//   kPermissionDenied -> PWB_BAD_HANDLE  (the handle grants access to nothing)
//   kNotFound -> PWB_NOT_FOUND    kAlreadyExists -> PWB_ALREADY_EXISTS
//   kResourceExhausted -> PWB_RESOURCE_EXHAUSTED
//   kUnavailable -> PWB_NOT_RUNNING
//   kFailedPrecondition -> PWB_WOULD_DEADLOCK
//   anything else -> PWB_INTERNAL
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "executor/block_on.h"
#include "executor/enter.h"
#include "executor/local_pool.h"
#include "interop/bridge/bridge_testing.h"
#include "poll/annotated_lock.h"
#include "interop/bridge/handle_table.h"
#include "interop/bridge/pollwake_bridge.h"
#include "poll/context.h"
#include "poll/mpsc.h"
#include "poll/oneshot.h"
#include "poll/poll.h"
#include "poll/timer.h"

namespace pollwake::bridge {

namespace testing {
thread_local bool tls_fail_next_send = false;
void FailNextSendOnThisThread() { tls_fail_next_send = true; }
std::atomic<bool> g_dispatcher_throws_once{false};
void MakeTheDispatcherThrowOnce() { g_dispatcher_throws_once.store(true); }
}  // namespace testing

namespace {

pwb_status ToCode(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kOk: return PWB_OK;
    case absl::StatusCode::kCancelled: return PWB_CANCELED;
    case absl::StatusCode::kInvalidArgument: return PWB_INVALID_ARGUMENT;
    case absl::StatusCode::kPermissionDenied: return PWB_BAD_HANDLE;
    case absl::StatusCode::kNotFound: return PWB_NOT_FOUND;
    case absl::StatusCode::kAlreadyExists: return PWB_ALREADY_EXISTS;
    case absl::StatusCode::kResourceExhausted: return PWB_RESOURCE_EXHAUSTED;
    case absl::StatusCode::kUnavailable: return PWB_NOT_RUNNING;
    case absl::StatusCode::kFailedPrecondition: return PWB_WOULD_DEADLOCK;
    default: return PWB_INTERNAL;
  }
}

// Turns the exception being handled into a status (inside a catch block).
absl::Status CurrentExceptionStatus() {
  try {
    throw;
  } catch (const std::bad_alloc&) {
    return absl::InternalError("out of memory");
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("internal error: ", e.what()));
  } catch (...) {
    return absl::InternalError("internal error: unknown exception");
  }
}

// Set on the runtime thread: blocking there would wait for ourselves.
thread_local bool tls_on_runtime_thread = false;

constexpr char kShutdownCanceled[] = "canceled: the bridge shut down before the call finished";

// The status of a call that the runtime accepted but can no longer run,
// because the runtime's run loop threw `cause` (a bug in the library or the
// executor, never a user's mistake: user callbacks that throw end the
// process instead, and each operation's task catches its own exceptions).
absl::Status RunLoopFailedError(const absl::Status& cause) {
  return absl::InternalError(absl::StrCat(
      "internal error: the runtime's run loop threw (", cause.message(),
      ") and the runtime thread stopped; the call was not completed (a scan may have delivered "
      "some rows); pwb_shutdown resets the bridge"));
}

// Set on a runtime thread once its run loop has thrown: what its armed
// Completions report when they are dropped from then on (see ~Completion).
thread_local std::optional<absl::Status> tls_run_loop_failure;

// RuntimeControl: what the Bridge and one run of the runtime thread share.
class RuntimeControl {
 public:
  // Shutdown has begun (set under the Bridge's lock, with its state
  // kStopping): from then on no task starts or continues an operation,
  // and the dispatcher takes no more commands; they all hear PWB_CANCELED.
  bool stopping() const {
    // ORDERING: acquire, pairs with the release in BeginStopping (the flag
    // publishes nothing else; the Bridge's lock orders the rest).
    return stopping_.load(std::memory_order_acquire);
  }
  void BeginStopping() { stopping_.store(true, std::memory_order_release); }

  // The run loop threw (on the runtime thread, before the tasks and the
  // channel's receiver are dropped): records the cause for calls submitted
  // later, and marks this thread so the dropped calls report it too. The
  // first cause is kept (the dispatcher reports its exception, and then
  // RuntimeMain the same one, out of run_until).
  void RunLoopFailed(const absl::Status& cause) {
    if (tls_run_loop_failure) return;
    tls_run_loop_failure = RunLoopFailedError(cause);
    MutexLock lock(&mu_);
    if (failure_.ok()) failure_ = *tls_run_loop_failure;
  }
  // RunLoopFailedError(cause) once the run loop has thrown; OK before.
  absl::Status failure() const {
    MutexLock lock(&mu_);
    return failure_;
  }

 private:
  std::atomic<bool> stopping_{false};
  mutable absl::Mutex mu_;
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
};

// [START callback_boundary]
// CallUser: the one place the library calls a user callback (done, row).
// Callbacks must not throw (the header's rule). If one does, the exception
// stops here, at this noexcept boundary: a message on stderr naming the
// rule, then std::terminate. Not a status: by then the library cannot keep
// its promises (a scan half delivered, a done that did not return), and a
// C caller could not have caught the exception anyway. A longjmp out of a
// callback cannot be seen here at all; it is undefined behavior (it skips
// the library's bookkeeping), and the header says so.
template <class Fn, class... Args>
void CallUser(const char* which, Fn fn, Args... args) noexcept {
  try {
    fn(args...);
  } catch (...) {
    std::fprintf(stderr,
                 "pollwake bridge: a %s callback threw a C++ exception; callbacks must not "
                 "throw (pollwake_bridge.h): terminating\n",
                 which);
    std::fflush(stderr);
    std::terminate();
  }
}
// [END callback_boundary]

// Calls sent to the runtime and not yet completed (pwb_calls_in_flight).
std::atomic<std::uint64_t> g_in_flight{0};

// Reply: what a blocking call receives on its oneshot.
struct Reply {
  pwb_status status = PWB_INTERNAL;
  std::string message;
  std::uint64_t value = 0;
};

// [START completion]
// Completion: the promise that a call's caller hears exactly once. It holds
// either the C callback (done, user_data) or a blocking caller's oneshot.
// Finish() reports an outcome and disarms it; a Completion destroyed while
// still armed reports from its destructor: PWB_CANCELED when its command or
// task was dropped by a shutdown, PWB_INTERNAL when an exception unwinds
// through it or when the runtime's run loop threw. Moving it moves the
// obligation. It calls `done` through CallUser, the boundary where a
// throwing callback ends the process.
class Completion {
 public:
  Completion(pwb_done_fn done, void* user_data) : target_(CallbackTarget{done, user_data}) {}
  explicit Completion(oneshot::Sender<Reply> reply) : target_(std::move(reply)) {}
  Completion(Completion&& other) noexcept
      : target_(std::move(other.target_)),
        armed_(std::exchange(other.armed_, false)),
        in_flight_(std::exchange(other.in_flight_, false)) {}
  Completion& operator=(Completion&&) = delete;
  // Destroyed while armed, one of three things happened. The runtime's run
  // loop threw, and the runtime thread is dropping its tasks and queued
  // commands: PWB_INTERNAL saying so (checked first: that unwinding may
  // pass through here too). An exception thrown after this object was made
  // is unwinding through it (e.g. the channel's send failed to allocate
  // after taking the command): PWB_INTERNAL, the status the edge
  // (AsyncCall, BlockingCall) returns for that same exception. Otherwise its
  // command or task was dropped by a shutdown: PWB_CANCELED.
  ~Completion() {
    if (!armed_) return;
    if (tls_run_loop_failure) {
      Finish(*tls_run_loop_failure);
    } else if (std::uncaught_exceptions() > uncaught_at_birth_) {
      Finish(absl::InternalError(
          "internal error: the call failed before it reached the runtime"));
    } else {
      Finish(absl::CancelledError(kShutdownCanceled));
    }
  }

  void Finish(const absl::StatusOr<std::uint64_t>& result) noexcept {
    if (!armed_) return;
    armed_ = false;
    // ORDERING: relaxed: a diagnostic count; nothing is published through it.
    if (in_flight_) g_in_flight.fetch_sub(1, std::memory_order_relaxed);
    const pwb_status code = ToCode(result.status());
    const std::uint64_t value = result.ok() ? *result : 0;
    if (auto* cb = std::get_if<CallbackTarget>(&target_)) {
      // The message lives until the callback returns (the header's promise).
      const std::string message(result.status().message());
      CallUser("done", cb->done, cb->user_data, code, message.c_str(), value);
    } else {
      auto& tx = std::get<oneshot::Sender<Reply>>(target_);
      try {
        (void)tx.send(Reply{code, std::string(result.status().message()), value});
      } catch (...) {
        // Out of memory copying the message: dropping the sender makes the
        // waiting caller see Canceled, so it still hears exactly once.
      }
    }
  }
  // [END completion]

  bool armed() const { return armed_; }
  // Counts this call in pwb_calls_in_flight until it finishes (Submit, just
  // before the send, under the bridge's reader lock).
  void MarkInFlight() {
    in_flight_ = true;
    // ORDERING: relaxed, as in Finish.
    g_in_flight.fetch_add(1, std::memory_order_relaxed);
  }
  pwb_done_fn callback() const {
    auto* cb = std::get_if<CallbackTarget>(&target_);
    return cb != nullptr ? cb->done : nullptr;
  }

 private:
  struct CallbackTarget {
    pwb_done_fn done;
    void* user_data;
  };
  std::variant<CallbackTarget, oneshot::Sender<Reply>> target_;
  bool armed_ = true;
  bool in_flight_ = false;  // counted in g_in_flight
  // Exceptions in flight when this object was made (the moved-to one too):
  // more at destruction means it is destroyed by unwinding.
  int uncaught_at_birth_ = std::uncaught_exceptions();
};

// RowSink: where a scan's rows go (the same user_data as its done).
struct RowSink {
  pwb_row_fn row;
  void* user_data;
};

// [START commands]
// The commands: one struct per C call, each owning copies of its arguments
// and its Completion. Rust's pattern has an enum; here it is a std::variant,
// and the dispatcher's `match` is a std::visit.
struct ConnectCmd {
  std::string uri;
  std::uint32_t latency_us;
  Completion done;
};
struct CreateTableCmd {
  pwb_conn conn;
  std::string table;
  Completion done;
};
struct InsertCmd {
  pwb_conn conn;
  std::string table;
  std::vector<std::pair<std::int64_t, std::string>> rows;
  Completion done;
};
struct CountCmd {
  pwb_conn conn;
  std::string table;
  Completion done;
};
struct ScanCmd {
  pwb_conn conn;
  std::string table;
  std::int64_t key_min;
  std::int64_t key_max;
  std::optional<std::string> contains;
  RowSink rows;
  Completion done;
};
struct CloseCmd {
  pwb_conn conn;
  Completion done;
};
struct PingCmd {
  Completion done;
};
using Command =
    std::variant<ConnectCmd, CreateTableCmd, InsertCmd, CountCmd, ScanCmd, CloseCmd, PingCmd>;
// [END commands]

// The store. Touched only on the runtime thread (tasks run there one at a
// time), so it needs no lock: that single owner is the pattern's point.
struct Table {
  std::vector<std::pair<std::int64_t, std::string>> rows;  // insertion order
};
struct Database {
  absl::flat_hash_map<std::string, Table> tables;
};
struct Connection {
  std::shared_ptr<Database> db;
  std::uint32_t latency_us = 0;
  bool closed = false;  // set by the close task; in-flight tasks check it
};

using ConnectionTable = HandleTable<Connection>;

// Runtime: what the tasks share, alive for one run of the runtime thread.
struct Runtime {
  Runtime(ConnectionTable& t, RuntimeControl& c) : handles(t), control(c) {}
  ConnectionTable& handles;
  RuntimeControl& control;
  Timer timer;  // one thread for every simulated latency
  // By uri. Strong references: a database outlives its connections and
  // lives until shutdown (the store is in memory only).
  absl::flat_hash_map<std::string, std::shared_ptr<Database>> databases;
};

// ---- The operations (run on the runtime thread, after the latency) ----

absl::StatusOr<std::uint64_t> Run(Runtime& rt, Connection*, ConnectCmd& cmd) {
  std::shared_ptr<Database>& db = rt.databases[cmd.uri];
  if (!db) db = std::make_shared<Database>();
  auto conn = std::make_shared<Connection>();
  conn->db = db;
  conn->latency_us = cmd.latency_us;
  return rt.handles.Insert(std::move(conn));
}

absl::StatusOr<std::uint64_t> Run(Runtime&, Connection* c, CreateTableCmd& cmd) {
  if (c->db->tables.contains(cmd.table)) {
    return absl::AlreadyExistsError(absl::StrCat("table '", cmd.table, "' already exists"));
  }
  if (c->db->tables.size() >= PWB_MAX_TABLES_PER_DB) {
    return absl::ResourceExhaustedError("too many tables in this database");
  }
  c->db->tables.emplace(cmd.table, Table{});
  return 0;
}

absl::StatusOr<Table*> FindTable(Connection* c, const std::string& name) {
  auto it = c->db->tables.find(name);
  if (it == c->db->tables.end()) {
    return absl::NotFoundError(absl::StrCat("no table '", name, "'"));
  }
  return &it->second;
}

absl::StatusOr<std::uint64_t> Run(Runtime&, Connection* c, InsertCmd& cmd) {
  absl::StatusOr<Table*> t = FindTable(c, cmd.table);
  if (!t.ok()) return t.status();
  if ((*t)->rows.size() + cmd.rows.size() > PWB_MAX_ROWS_PER_TABLE) {
    return absl::ResourceExhaustedError("the table would exceed PWB_MAX_ROWS_PER_TABLE rows");
  }
  for (auto& row : cmd.rows) (*t)->rows.push_back(std::move(row));
  return cmd.rows.size();
}

absl::StatusOr<std::uint64_t> Run(Runtime&, Connection* c, CountCmd& cmd) {
  absl::StatusOr<Table*> t = FindTable(c, cmd.table);
  if (!t.ok()) return t.status();
  return (*t)->rows.size();
}

// [START scan_turn]
// A scan's progress between the turns of its task.
struct ScanCursor {
  bool begun = false;
  std::size_t next = 0;  // the next row to examine
  std::size_t end = 0;   // the table's size when the scan began
  std::uint64_t delivered = 0;
};

// One turn of a scan: examines at most PWB_RUNTIME_BUDGET rows, from where
// the last turn stopped, and calls `row` for each match; nullopt while rows
// remain (the task then yields, so that a long scan cannot hold up the
// dispatcher and the other tasks). Rows appended after the scan began are
// not part of it. The table is looked up again every turn: a flat_hash_map
// may move its values when another table is created in between (tables
// are never removed, so the lookup cannot fail after the first turn).
std::optional<absl::StatusOr<std::uint64_t>> ScanTurn(Connection* c, ScanCmd& cmd,
                                                      ScanCursor& cur) {
  absl::StatusOr<Table*> t = FindTable(c, cmd.table);
  if (!t.ok()) return t.status();
  const std::vector<std::pair<std::int64_t, std::string>>& rows = (*t)->rows;
  if (!cur.begun) {
    cur.begun = true;
    cur.end = rows.size();
  }
  const std::size_t stop = std::min(cur.end, cur.next + PWB_RUNTIME_BUDGET);
  for (; cur.next < stop; ++cur.next) {
    // By index, and re-read each time: the callback cannot change the table
    // (calls it makes are only queued), but other tasks may between turns.
    const auto& [key, value] = rows[cur.next];
    if (key < cmd.key_min || key > cmd.key_max) continue;
    if (cmd.contains && value.find(*cmd.contains) == std::string::npos) continue;
    CallUser("row", cmd.rows.row, cmd.rows.user_data, key, value.c_str(), value.size());
    ++cur.delivered;
  }
  if (cur.next < cur.end) return std::nullopt;
  return cur.delivered;
}
// [END scan_turn]

absl::StatusOr<std::uint64_t> Run(Runtime& rt, Connection* c, CloseCmd& cmd) {
  absl::StatusOr<std::shared_ptr<Connection>> removed = rt.handles.Remove(cmd.conn);
  if (!removed.ok()) return removed.status();  // closed twice, concurrently
  c->closed = true;
  return 0;
}

absl::StatusOr<std::uint64_t> Run(Runtime&, Connection*, PingCmd&) { return 0; }

template <class Cmd>
constexpr bool kNeedsConnection = !std::is_same_v<Cmd, ConnectCmd> && !std::is_same_v<Cmd, PingCmd>;

// [START op_task]
// OpTask<Cmd>: the task the dispatcher spawns for one command. First poll:
// look the handle up (on the runtime thread, so a bad handle is refused
// where the data lives). Then await the connection's latency on the shared
// timer: Pending, with the task's waker in the timer's heap, and the
// runtime thread free to run other tasks. Then run the operation and finish
// the Completion; a scan runs in turns (ScanTurn), waking itself between
// them. Once shutdown has begun, a poll finishes the call PWB_CANCELED
// instead; destroyed unfinished (shutdown), its Completion reports the same.
template <class Cmd>
class OpTask {
 public:
  using Output = Unit;
  OpTask(Cmd cmd, Runtime* rt) : cmd_(std::move(cmd)), rt_(rt) {}
  OpTask(OpTask&&) noexcept = default;

  Poll<Unit> poll(Context& cx) {
    try {
      if (rt_->control.stopping()) {
        cmd_.done.Finish(absl::CancelledError(kShutdownCanceled));
        return Ready();
      }
      if (!started_) {
        started_ = true;
        if (!Start()) return Ready();
      }
      if (sleep_) {
        if (sleep_->poll(cx).is_pending()) return Pending;
        sleep_.reset();
      }
      if (!running_) {
        running_ = true;
        if (conn_ && conn_->closed) {
          cmd_.done.Finish(absl::PermissionDeniedError(
              "bad handle: the connection was closed while the call was in flight"));
          return Ready();
        }
      }
      if constexpr (std::is_same_v<Cmd, ScanCmd>) {
        std::optional<absl::StatusOr<std::uint64_t>> result = ScanTurn(conn_.get(), cmd_, scan_);
        if (!result) {
          cx.waker().wake_by_ref();  // its turn is over: polled again next pass
          return Pending;
        }
        cmd_.done.Finish(*result);
      } else {
        cmd_.done.Finish(Run(*rt_, conn_.get(), cmd_));
      }
    } catch (...) {
      cmd_.done.Finish(CurrentExceptionStatus());  // nothing escapes into the pool
    }
    return Ready();
  }

 private:
  // Looks up the connection and starts the latency; false when finished.
  bool Start() {
    std::uint32_t latency_us = 0;
    if constexpr (kNeedsConnection<Cmd>) {
      absl::StatusOr<std::shared_ptr<Connection>> c = rt_->handles.Lookup(cmd_.conn);
      if (!c.ok()) {
        cmd_.done.Finish(c.status());
        return false;
      }
      conn_ = *std::move(c);
      latency_us = conn_->latency_us;
    } else if constexpr (std::is_same_v<Cmd, ConnectCmd>) {
      latency_us = cmd_.latency_us;
    }
    if (latency_us > 0) sleep_.emplace(rt_->timer.sleep(std::chrono::microseconds(latency_us)));
    return true;
  }

  Cmd cmd_;
  Runtime* rt_;
  bool started_ = false;
  bool running_ = false;  // the latency is over and the operation has begun
  std::shared_ptr<Connection> conn_;
  std::optional<Sleep> sleep_;
  ScanCursor scan_;  // scans only
};
// [END op_task]

// [START dispatcher]
// Dispatcher: the runtime's one long-lived task: the pattern's loop over the
// channel with its big `match`. Every command becomes its own task, so a
// slow command never holds up the ones behind it. It takes at most
// PWB_RUNTIME_BUDGET commands per poll, then wakes itself and yields: the
// LocalPool polls every task that was ready before it once before polling
// it again, so callers flooding the channel cannot starve the tasks already
// running (and, the pool's passes being FIFO, those tasks cannot starve it).
class Dispatcher {
 public:
  using Output = Unit;
  Dispatcher(mpsc::Receiver<Command> rx, LocalSpawner spawner, Runtime* rt)
      : rx_(std::move(rx)), spawner_(std::move(spawner)), rt_(rt) {}
  Dispatcher(Dispatcher&&) noexcept = default;

  Poll<Unit> poll(Context& cx) {
    try {
      if (testing::g_dispatcher_throws_once.exchange(false)) {
        throw std::runtime_error("the test seam made the dispatcher's poll throw");
      }
      for (int taken = 0; taken < PWB_RUNTIME_BUDGET; ++taken) {
        // Shutdown has begun: take nothing more. Ending here drops the
        // receiver with every command still queued: each hears PWB_CANCELED.
        if (rt_->control.stopping()) return Ready();
        Poll<std::optional<Command>> next = rx_.poll_next(cx);
        if (next.is_pending()) return Pending;
        std::optional<Command> cmd = std::move(next).value();
        if (!cmd) return Ready();  // every sender gone: the runtime is stopping
        std::visit([this](auto& c) { Spawn(std::move(c)); }, *cmd);
      }
      cx.waker().wake_by_ref();  // the budget is spent: yield, polled again next pass
      return Pending;
    } catch (...) {
      // The pool drops a task whose poll throws, and with this one the
      // channel's receiver: the runtime can take no command any more. Mark
      // that before the drop, so that the queued commands and every call
      // submitted from now on report it (RuntimeControl::RunLoopFailed).
      rt_->control.RunLoopFailed(CurrentExceptionStatus());
      throw;
    }
  }

 private:
  template <class Cmd>
  void Spawn(Cmd&& cmd) {
    try {
      spawner_.spawn_local(OpTask<std::decay_t<Cmd>>(std::move(cmd), rt_));
    } catch (...) {
      // The command may or may not have been moved into a task that was
      // then destroyed (its Completion reported then); if not, report here.
      cmd.done.Finish(CurrentExceptionStatus());
    }
  }

  mpsc::Receiver<Command> rx_;
  LocalSpawner spawner_;
  Runtime* rt_;
};
// [END dispatcher]

}  // namespace


namespace {

// [START runtime_main]
// The runtime thread: builds the pool and the timer, reports "I'm here" on
// the ready oneshot, then runs every task until the stop oneshot fires (or
// its sender is dropped). Then it drops the pool, which destroys every
// unfinished task, and with it each armed Completion: those calls hear
// PWB_CANCELED, here, before the thread ends. If the run loop throws
// instead (a task's exception propagates out of run_until; only the
// dispatcher's can, see there), the failure is recorded first, so that
// the same drop reports PWB_INTERNAL, "the runtime's run loop threw",
// and every later call gets that too until pwb_shutdown.
void RuntimeMain(mpsc::Receiver<Command> rx, oneshot::Sender<Unit> ready,
                 oneshot::Receiver<Unit> stop, ConnectionTable* handles,
                 std::shared_ptr<RuntimeControl> control) {
  tls_on_runtime_thread = true;
  std::optional<Runtime> rt;
  std::optional<LocalPool> pool;  // after rt: destroyed before the timer its tasks sleep on
  try {
    rt.emplace(*handles, *control);
    pool.emplace();
    pool->spawner().spawn_local(Dispatcher(std::move(rx), pool->spawner(), &*rt));
  } catch (...) {
    return;  // dropping `ready` unsent tells the starter
  }
  (void)ready.send(Unit{});
  try {
    (void)pool->run_until(std::move(stop));
  } catch (...) {
    control->RunLoopFailed(CurrentExceptionStatus());
  }
  pool.reset();
}
// [END runtime_main]

// Bridge: the process-wide state behind the C functions.
class Bridge {
 public:
  Bridge() : handles_(PWB_MAX_CONNECTIONS) {}

  // [START ensure_running]
  // Starts the runtime unless it runs. The whole start happens under mu_,
  // so two concurrent first connects start one runtime: the second waits
  // for the lock and then finds it running.
  absl::Status EnsureRunning() {
    MutexLock lock(&mu_);
    if (state_ == State::kRunning) return absl::OkStatus();
    if (tls_on_runtime_thread) {
      return absl::FailedPreconditionError(
          "connect from the runtime thread while it is stopping: it cannot wait for itself");
    }
    AnnotatedAwait(&mu_, absl::Condition(&Bridge::NotStopping, this));
    if (state_ == State::kRunning) return absl::OkStatus();
    if (is_entered()) {
      return absl::FailedPreconditionError(
          "cannot start the runtime from inside a pollwake executor: waiting for its "
          "ready signal would block that executor");
    }
    auto [tx, rx] = mpsc::unbounded<Command>();
    auto [ready_tx, ready_rx] = oneshot::channel<Unit>();
    auto [stop_tx, stop_rx] = oneshot::channel<Unit>();
    auto control = std::make_shared<RuntimeControl>();
    std::thread thread(RuntimeMain, std::move(rx), std::move(ready_tx), std::move(stop_rx),
                       &handles_, control);
    if (block_on(std::move(ready_rx)).is_err()) {  // the runtime's "I'm here"
      thread.join();
      return absl::InternalError("the runtime thread failed to start");
    }
    tx_.emplace(std::move(tx));
    stop_.emplace(std::move(stop_tx));
    control_ = std::move(control);
    thread_ = std::move(thread);
    state_ = State::kRunning;
    ++starts_;
    return absl::OkStatus();
  }
  // [END ensure_running]

  // [START submit]
  // Sends a command to the runtime, or, when none runs, finishes it at once
  // with PWB_NOT_RUNNING (outside the lock: the callback may call us again).
  // A runtime that is running but refuses the command has lost its receiver:
  // its run loop threw (RuntimeControl::RunLoopFailed), and the command is
  // finished with that PWB_INTERNAL status instead.
  pwb_status Submit(Command cmd) {
    std::optional<Command> refused;  // came back from a closed channel
    absl::Status why = absl::UnavailableError("the runtime is not running");
    {
      ReaderMutexLock lock(&mu_);
      if (state_ == State::kRunning) {
        // Counted before the send, under the lock that shutdown must take
        // exclusively: whoever sees the count can rely on the send.
        std::visit([](auto& c) { c.done.MarkInFlight(); }, cmd);
        if (testing::tls_fail_next_send) {
          // The test seam (bridge_testing.h): a send that took the command
          // and then failed to allocate.
          testing::tls_fail_next_send = false;
          Command taken = std::move(cmd);
          throw std::bad_alloc();
        }
        auto sent = tx_->unbounded_send(std::move(cmd));
        if (sent.is_ok()) return PWB_OK;
        refused.emplace(std::move(sent).error().into_inner());
        if (absl::Status failure = control_->failure(); !failure.ok()) why = failure;
      }
    }
    std::visit([&why](auto& c) { c.done.Finish(why); }, refused ? *refused : cmd);
    return ToCode(why);
  }
  // [END submit]

  // [START shutdown]
  absl::Status Shutdown() {
    std::thread thread;
    std::optional<oneshot::Sender<Unit>> stop;
    std::optional<mpsc::UnboundedSender<Command>> tx;
    {
      MutexLock lock(&mu_);
      if (tls_on_runtime_thread) {
        return absl::FailedPreconditionError(
            "pwb_shutdown from the runtime thread (a callback): it would join itself");
      }
      AnnotatedAwait(&mu_, absl::Condition(&Bridge::NotStopping, this));
      if (state_ == State::kStopped) return absl::OkStatus();
      // From here on Submit refuses: nothing new reaches the channel; and
      // the runtime neither takes queued commands nor starts or continues
      // an operation: every call not yet completed hears PWB_CANCELED.
      state_ = State::kStopping;
      control_->BeginStopping();
      control_.reset();
      thread = std::move(thread_);
      stop = std::move(stop_);
      tx = std::move(tx_);
    }
    // Outside the lock: while the pool drops its tasks, their callbacks run
    // on the runtime thread and may call the API (and find it stopping).
    tx.reset();
    (void)stop->send(Unit{});
    thread.join();
    // Every task is gone; the connections can go (their handles turn stale).
    std::vector<std::shared_ptr<Connection>> closed = handles_.Clear();
    closed.clear();
    MutexLock lock(&mu_);
    state_ = State::kStopped;
    return absl::OkStatus();
  }
  // [END shutdown]

  std::uint64_t starts() {
    MutexLock lock(&mu_);
    return starts_;
  }
  std::uint64_t open_connections() const { return handles_.size(); }

 private:
  enum class State { kStopped, kRunning, kStopping };
  // An Await condition: absl evaluates it with mu_ held, but inside Await
  // (between its own unlocks and relocks, or on the unlocking thread), where
  // AnnotatedAwait cannot tell TSan; so it annotates its own read: acquire
  // before (it sees the last holder's writes), release after (the next
  // holder sees this read).
  static bool NotStopping(Bridge* b) ABSL_EXCLUSIVE_LOCKS_REQUIRED(b->mu_) {
    POLLWAKE_TSAN_ACQUIRE(&b->mu_);
    POLLWAKE_TSAN_ACQUIRE(ReaderReleaseAddr(&b->mu_));
    const bool not_stopping = b->state_ != State::kStopping;
    POLLWAKE_TSAN_RELEASE(&b->mu_);
    return not_stopping;
  }

  absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_) = State::kStopped;
  std::optional<mpsc::UnboundedSender<Command>> tx_ ABSL_GUARDED_BY(mu_);  // while running
  std::optional<oneshot::Sender<Unit>> stop_ ABSL_GUARDED_BY(mu_);         // while running
  std::shared_ptr<RuntimeControl> control_ ABSL_GUARDED_BY(mu_);          // while running
  std::thread thread_ ABSL_GUARDED_BY(mu_);                                // while running
  std::uint64_t starts_ ABSL_GUARDED_BY(mu_) = 0;
  ConnectionTable handles_;  // outlives every runtime: stale stays stale
};

// The one Bridge, never destroyed: a runtime still running at exit must
// not be joined by a static destructor (pwb_shutdown is the way out).
Bridge& TheBridge() {
  static Bridge* bridge = new Bridge();
  return *bridge;
}

// ---- The edge: argument checks, copies, and the no-unwind guard ----

absl::StatusOr<std::string> CopyName(const char* s, const char* what) {
  if (s == nullptr) return absl::InvalidArgumentError(absl::StrCat(what, " is NULL"));
  const std::size_t n = ::strnlen(s, PWB_MAX_NAME_LEN + 1);
  if (n == 0) return absl::InvalidArgumentError(absl::StrCat(what, " is empty"));
  if (n > PWB_MAX_NAME_LEN) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is longer than PWB_MAX_NAME_LEN"));
  }
  return std::string(s, n);
}

// [START edge_guard]
// Every exported asynchronous function: builds its Completion first, then
// runs `body` (checks, copies, Submit). A refusal finishes the Completion
// on the caller's thread; an exception becomes PWB_INTERNAL, delivered to
// `done` and returned (if the command already owned the Completion, the
// unwinding destroyed it and its destructor delivered PWB_INTERNAL). Either
// way: exactly one completion, its status equal to the return value, and
// nothing unwinds into C.
template <class Body>
pwb_status AsyncCall(pwb_done_fn done, void* user_data, Body body) noexcept {
  if (done == nullptr) return PWB_INVALID_ARGUMENT;
  std::optional<Completion> completion;
  try {
    completion.emplace(done, user_data);
    absl::StatusOr<pwb_status> r = body(*completion);
    if (r.ok()) return *r;
    completion->Finish(r.status());
    return ToCode(r.status());
  } catch (...) {
    absl::Status s = CurrentExceptionStatus();
    if (completion && completion->armed()) {
      completion->Finish(s);
      return ToCode(s);
    }
    // The Completion had been moved into a command, and nothing throws
    // after a command reaches the channel (Submit): so the command was
    // destroyed by this very unwinding, and its Completion, seeing that,
    // delivered PWB_INTERNAL. Return the same.
    return PWB_INTERNAL;
  }
}
// [END edge_guard]

void CopyMessage(const std::string& m, char* out, std::size_t cap) {
  if (out == nullptr || cap == 0) return;
  const std::size_t n = m.size() < cap - 1 ? m.size() : cap - 1;
  std::memcpy(out, m.data(), n);
  out[n] = '\0';
}

// [START blocking_call]
// Every exported blocking function: the same command with a oneshot in its
// Completion, and block_on on the receiver. A dropped sender (the command
// was destroyed unfinished) reads as PWB_CANCELED.
template <class Body>
pwb_status BlockingCall(std::uint64_t* out, char* message, std::size_t cap, Body body) noexcept {
  Reply reply;
  try {
    if (tls_on_runtime_thread || is_entered()) {
      reply = Reply{PWB_WOULD_DEADLOCK,
                    "a blocking call from the runtime thread or from inside an executor would "
                    "wait for itself; use the callback API there",
                    0};
    } else {
      auto [tx, rx] = oneshot::channel<Reply>();
      {
        Completion completion(std::move(tx));
        absl::StatusOr<pwb_status> r = body(completion);
        if (!r.ok()) completion.Finish(r.status());
      }  // moved into a command, or finished: the reply is on its way
      auto got = block_on(std::move(rx));
      if (got.is_ok()) {
        reply = std::move(got).value();
      } else {
        reply = Reply{PWB_CANCELED, kShutdownCanceled, 0};
      }
    }
  } catch (...) {
    absl::Status s = CurrentExceptionStatus();
    reply = Reply{ToCode(s), std::string(s.message()), 0};
  }
  if (out != nullptr) *out = reply.value;
  CopyMessage(reply.message, message, cap);
  return reply.status;
}
// [END blocking_call]

// The bodies, shared by both APIs: copy the arguments into a command and
// submit it. They take the Completion by reference and move it into the
// command only once nothing else can fail.

absl::StatusOr<pwb_status> ConnectBody(const char* uri, std::uint32_t latency_us,
                                       Completion& done) {
  absl::StatusOr<std::string> u = CopyName(uri, "uri");
  if (!u.ok()) return u.status();
  if (latency_us > PWB_MAX_LATENCY_US) {
    return absl::InvalidArgumentError("latency_us is larger than PWB_MAX_LATENCY_US");
  }
  Bridge& b = TheBridge();
  absl::Status running = b.EnsureRunning();
  if (!running.ok()) return running;
  return b.Submit(ConnectCmd{*std::move(u), latency_us, std::move(done)});
}

absl::StatusOr<pwb_status> CreateTableBody(pwb_conn conn, const char* table, Completion& done) {
  absl::StatusOr<std::string> t = CopyName(table, "table");
  if (!t.ok()) return t.status();
  return TheBridge().Submit(CreateTableCmd{conn, *std::move(t), std::move(done)});
}

absl::StatusOr<pwb_status> InsertBody(pwb_conn conn, const char* table, const std::int64_t* keys,
                                      const char* const* values, std::size_t n,
                                      Completion& done) {
  absl::StatusOr<std::string> t = CopyName(table, "table");
  if (!t.ok()) return t.status();
  if (n > PWB_MAX_ROWS_PER_INSERT) {
    return absl::InvalidArgumentError("n is larger than PWB_MAX_ROWS_PER_INSERT");
  }
  if (n > 0 && (keys == nullptr || values == nullptr)) {
    return absl::InvalidArgumentError("keys or values is NULL");
  }
  std::vector<std::pair<std::int64_t, std::string>> rows;
  rows.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (values[i] == nullptr) return absl::InvalidArgumentError("a value is NULL");
    const std::size_t len = ::strnlen(values[i], PWB_MAX_VALUE_LEN + 1);
    if (len > PWB_MAX_VALUE_LEN) {
      return absl::InvalidArgumentError("a value is longer than PWB_MAX_VALUE_LEN");
    }
    rows.emplace_back(keys[i], std::string(values[i], len));
  }
  return TheBridge().Submit(InsertCmd{conn, *std::move(t), std::move(rows), std::move(done)});
}

absl::StatusOr<pwb_status> CountBody(pwb_conn conn, const char* table, Completion& done) {
  absl::StatusOr<std::string> t = CopyName(table, "table");
  if (!t.ok()) return t.status();
  return TheBridge().Submit(CountCmd{conn, *std::move(t), std::move(done)});
}

absl::StatusOr<pwb_status> ScanBody(pwb_conn conn, const char* table, const pwb_filter* filter,
                                    pwb_row_fn row, void* user_data, Completion& done) {
  absl::StatusOr<std::string> t = CopyName(table, "table");
  if (!t.ok()) return t.status();
  if (row == nullptr) return absl::InvalidArgumentError("row is NULL");
  std::int64_t lo = INT64_MIN;
  std::int64_t hi = INT64_MAX;
  std::optional<std::string> contains;
  if (filter != nullptr) {
    lo = filter->key_min;
    hi = filter->key_max;
    if (filter->contains != nullptr) {
      const std::size_t len = ::strnlen(filter->contains, PWB_MAX_VALUE_LEN + 1);
      if (len > PWB_MAX_VALUE_LEN) {
        return absl::InvalidArgumentError("filter->contains is longer than PWB_MAX_VALUE_LEN");
      }
      contains.emplace(filter->contains, len);
    }
  }
  return TheBridge().Submit(ScanCmd{conn, *std::move(t), lo, hi, std::move(contains),
                                    RowSink{row, user_data}, std::move(done)});
}

absl::StatusOr<pwb_status> CloseBody(pwb_conn conn, Completion& done) {
  return TheBridge().Submit(CloseCmd{conn, std::move(done)});
}

absl::StatusOr<pwb_status> PingBody(Completion& done) {
  return TheBridge().Submit(PingCmd{std::move(done)});
}

}  // namespace
}  // namespace pollwake::bridge

using pollwake::bridge::BlockingCall;
using pollwake::bridge::AsyncCall;
using pollwake::bridge::Completion;
namespace pb = pollwake::bridge;

extern "C" {

const char* pwb_status_name(pwb_status status) {
  switch (status) {
    case PWB_OK: return "PWB_OK";
    case PWB_CANCELED: return "PWB_CANCELED";
    case PWB_INVALID_ARGUMENT: return "PWB_INVALID_ARGUMENT";
    case PWB_BAD_HANDLE: return "PWB_BAD_HANDLE";
    case PWB_NOT_FOUND: return "PWB_NOT_FOUND";
    case PWB_ALREADY_EXISTS: return "PWB_ALREADY_EXISTS";
    case PWB_RESOURCE_EXHAUSTED: return "PWB_RESOURCE_EXHAUSTED";
    case PWB_NOT_RUNNING: return "PWB_NOT_RUNNING";
    case PWB_WOULD_DEADLOCK: return "PWB_WOULD_DEADLOCK";
    case PWB_INTERNAL: return "PWB_INTERNAL";
    default: return "PWB_UNKNOWN";
  }
}

pwb_status pwb_connect(const char* uri, uint32_t latency_us, pwb_done_fn done, void* user_data) {
  return AsyncCall(done, user_data,
                   [&](Completion& c) { return pb::ConnectBody(uri, latency_us, c); });
}
pwb_status pwb_create_table(pwb_conn conn, const char* table, pwb_done_fn done,
                            void* user_data) {
  return AsyncCall(done, user_data,
                   [&](Completion& c) { return pb::CreateTableBody(conn, table, c); });
}
pwb_status pwb_insert(pwb_conn conn, const char* table, const int64_t* keys,
                      const char* const* values, size_t n, pwb_done_fn done, void* user_data) {
  return AsyncCall(done, user_data, [&](Completion& c) {
    return pb::InsertBody(conn, table, keys, values, n, c);
  });
}
pwb_status pwb_count(pwb_conn conn, const char* table, pwb_done_fn done, void* user_data) {
  return AsyncCall(done, user_data, [&](Completion& c) { return pb::CountBody(conn, table, c); });
}
pwb_status pwb_scan(pwb_conn conn, const char* table, const pwb_filter* filter, pwb_row_fn row,
                    pwb_done_fn done, void* user_data) {
  return AsyncCall(done, user_data, [&](Completion& c) {
    return pb::ScanBody(conn, table, filter, row, user_data, c);
  });
}
pwb_status pwb_close(pwb_conn conn, pwb_done_fn done, void* user_data) {
  return AsyncCall(done, user_data, [&](Completion& c) { return pb::CloseBody(conn, c); });
}
pwb_status pwb_ping(pwb_done_fn done, void* user_data) {
  return AsyncCall(done, user_data, [&](Completion& c) { return pb::PingBody(c); });
}

pwb_status pwb_connect_blocking(const char* uri, uint32_t latency_us, pwb_conn* out,
                                char* message, size_t message_cap) {
  return BlockingCall(out, message, message_cap,
                      [&](Completion& c) { return pb::ConnectBody(uri, latency_us, c); });
}
pwb_status pwb_create_table_blocking(pwb_conn conn, const char* table, char* message,
                                     size_t message_cap) {
  return BlockingCall(nullptr, message, message_cap,
                      [&](Completion& c) { return pb::CreateTableBody(conn, table, c); });
}
pwb_status pwb_insert_blocking(pwb_conn conn, const char* table, const int64_t* keys,
                               const char* const* values, size_t n, uint64_t* out,
                               char* message, size_t message_cap) {
  return BlockingCall(out, message, message_cap, [&](Completion& c) {
    return pb::InsertBody(conn, table, keys, values, n, c);
  });
}
pwb_status pwb_count_blocking(pwb_conn conn, const char* table, uint64_t* out, char* message,
                              size_t message_cap) {
  return BlockingCall(out, message, message_cap,
                      [&](Completion& c) { return pb::CountBody(conn, table, c); });
}
pwb_status pwb_scan_blocking(pwb_conn conn, const char* table, const pwb_filter* filter,
                             pwb_row_fn row, void* user_data, uint64_t* out, char* message,
                             size_t message_cap) {
  return BlockingCall(out, message, message_cap, [&](Completion& c) {
    return pb::ScanBody(conn, table, filter, row, user_data, c);
  });
}
pwb_status pwb_close_blocking(pwb_conn conn, char* message, size_t message_cap) {
  return BlockingCall(nullptr, message, message_cap,
                      [&](Completion& c) { return pb::CloseBody(conn, c); });
}
pwb_status pwb_ping_blocking(void) {
  return BlockingCall(nullptr, nullptr, 0, [&](Completion& c) { return pb::PingBody(c); });
}

pwb_status pwb_shutdown(void) {
  try {
    return pb::ToCode(pb::TheBridge().Shutdown());
  } catch (...) {
    return PWB_INTERNAL;
  }
}

uint64_t pwb_runtime_starts(void) {
  try {
    return pb::TheBridge().starts();
  } catch (...) {
    return 0;
  }
}

uint64_t pwb_calls_in_flight(void) {
  // ORDERING: relaxed: a diagnostic snapshot.
  return pb::g_in_flight.load(std::memory_order_relaxed);
}

uint64_t pwb_open_connections(void) {
  try {
    return pb::TheBridge().open_connections();
  } catch (...) {
    return 0;
  }
}

}  // extern "C"
