// executor/record/recorder.h
//
// Models tokio-console's view of a runtime (the console-subscriber crate's
// task, poll and waker records, and the lints of its `warnings` module:
// "never yielded", "lost waker", "self wakes") for pollwake's executors:
// every spawn, poll and wake of a recorded task, exported as Chrome trace
// event JSON (Perfetto, chrome://tracing) or a self-contained HTML timeline,
// and checked by lints at the end of a run.
//
// How pollwake differs, and why:
//   * No subscriber protocol and no instrumented runtime internals: the
//     recorder works at the two boundaries every executor already has. A
//     recorded task is the spawned future wrapped in Recorded<F> (poll
//     begin/end, result, duration, thread; complete/cancel/drop from its
//     destructor), and each poll hands the future a recording waker that
//     wraps the executor's own (a RawWakerVTable of its own that forwards
//     clone/wake/wake_by_ref/drop to the inner waker and notes which thread
//     called it). So it records any executor, and user code can record by
//     hand: `pool.spawner().spawn_local(rec.wrap(f))`, `block_on(rec.wrap(f))`.
//   * Recording is compiled in or out (executor/record/hooks.h): only the
//     automatic recording of every spawn, the park/unpark brackets and the
//     "already queued" note need the executors' hooks.
//   * Timestamps come from an injectable clock (RecorderOptions::clock), so
//     the long-poll lint is testable without the wall clock.
//
// Where it lives: executor/record/, because it serves executors (their hooks
// call it) while depending only on poll/ (Future, Context, Waker, RawWaker)
// and Abseil; poll/ stays the bottom layer that depends on nothing of ours.
//
// Rules: a Recorder must outlive every future it wrapped and every waker
// those futures cloned (as a pool must outlive its spawner's tasks), and no
// spawn on an executor it is attached to may race with its destruction. Its
// destructor first detaches it (parks look it up under the registry's lock,
// so none can reach it afterwards), then waits for the wakes and drops that
// other threads are still inside (a wake by value has already woken its
// task when its bookkeeping ends: see ~Recorder), then checks, and stops
// the process with a message saying how many tasks and wakers still refer
// to it. The recorder attached through POLLWAKE_RECORD_OUT is created on
// first use and never destroyed, so it outlives everything.

#ifndef POLLWAKE_EXECUTOR_RECORD_RECORDER_H_
#define POLLWAKE_EXECUTOR_RECORD_RECORDER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "poll/context.h"
#include "poll/future.h"
#include "poll/poll.h"
#include "poll/raw_waker.h"
#include "poll/waker.h"

namespace pollwake::record {

// SourceLocation: a file and a line, taken where current() is called; as a
// default argument (wrap's `where`), that is the caller's call site. It
// stands in for std::source_location, which libstdc++ 12 defines only for a
// compiler with __builtin_source_location: g++ 12 has it, clang 14 does not.
// __builtin_FILE() and __builtin_LINE() are in both, and name the call site
// when they are default arguments, so one type serves both compilers alike.
class SourceLocation {
 public:
  static constexpr SourceLocation current(const char* file = __builtin_FILE(),
                                          std::uint_least32_t line = __builtin_LINE()) noexcept {
    return SourceLocation(file, line);
  }
  constexpr SourceLocation() noexcept = default;
  constexpr const char* file_name() const noexcept { return file_; }
  constexpr std::uint_least32_t line() const noexcept { return line_; }

 private:
  constexpr SourceLocation(const char* file, std::uint_least32_t line) noexcept
      : file_(file), line_(line) {}

  const char* file_ = "";
  std::uint_least32_t line_ = 0;
};

enum class EventKind : std::uint8_t {
  kSpawn,       // a future was wrapped (spawned); `flow` starts the arrow to its first poll
  kPoll,        // one poll: ts .. ts+dur, `result`, `flow` ends the arrow of the wake that caused it
  kWake,        // Waker::wake (consumes the waker); ts .. ts+dur is the inner wake call
  kWakeByRef,   // Waker::wake_by_ref
  kWakerClone,  // a recording waker was cloned (`waker` is the new one, `other` the source)
  kWakerDrop,   // a cloned recording waker was dropped without waking
  kComplete,    // the future returned Ready (or threw)
  kCancel,      // the future was destroyed unfinished
  kDrop,        // the future was destroyed after it completed
  kPark,        // the executor slept: ts .. ts+dur
  kReadiness,   // the reactor delivered readiness: `other` the fd, `readiness` what
};

// What a kReadiness event says the descriptor became (the reactor's epoll
// bits, in the recorder's own words: executor/ knows no reactor).
enum ReadinessBits : std::uint32_t {
  kReadinessRead = 1,
  kReadinessWrite = 2,
  kReadinessHangup = 4,  // the peer closed its side (or both sides are closed)
  kReadinessError = 8,
};
const char* to_string(EventKind kind) noexcept;

enum class PollResult : std::uint8_t { kPending, kReady, kThrew };
const char* to_string(PollResult result) noexcept;

struct Event {
  EventKind kind;
  std::uint64_t ts_ns = 0;
  std::uint64_t dur_ns = 0;
  std::uint32_t thread = 0;  // small ids, in order of first appearance
  std::uint64_t task = 0;    // 0: none (a park)
  std::uint64_t waker = 0;
  std::uint64_t other = 0;
  std::uint64_t flow = 0;    // 0: none
  PollResult result = PollResult::kPending;
  bool already_queued = false;  // a wake the executor coalesced
  bool from_own_poll = false;   // a wake issued inside the task's own poll
  // Wakes and clones: the task's poll the waker was first cloned in (its
  // origin); 0 for the poll's own waker.
  std::uint64_t origin_poll = 0;
  bool late = false;            // a wake that arrived after the task's end
  std::uint32_t readiness = 0;  // kReadiness: ReadinessBits
};

// The rules, as docs/14_recorder.md states them:
//   lost-waker: the task returned Pending and then had no live waker and no
//     wake pending while the run went on. Judged from the state, never from
//     the order in which a teardown drops things: a Pending poll that kept
//     no waker is lost at once; a last waker dropped later makes the task
//     lost only if a poll, a park or a spawn followed before the task's own
//     drop began, or if the task is still alive when the lints are read.
//     Drops inside the destruction of a recorded future, and drops of a
//     task's wakers once its own drop began (on any thread), never count.
//   wake-after-complete: a waker cloned during the poll that returned Ready
//     (or threw) woke the task after that: the future finished but left its
//     waker registered somewhere. Other wakes after a task's end (a waker
//     registered by an earlier Pending poll, fired after the task completed
//     by another path or was cancelled) are the note late-wake, with the
//     waker's origin: harmless, the executor ignores them.
enum class LintKind : std::uint8_t {
  kLostWaker,          // left Pending with no live waker: it can never wake
  kWakeAfterComplete,  // woken after Ready by a waker cloned in that last poll
  kSelfWakeLoop,       // the task only ever woke itself (a busy loop)
  kLongPoll,           // a poll took longer than the threshold (blocking in poll)
  kLeakedWaker,        // wakers still alive after their task finished
  kLateWake,           // a note, not a lint: a wake after the end, from an earlier poll's waker
};
const char* to_string(LintKind kind) noexcept;

struct Lint {
  LintKind kind;
  std::uint64_t task;
  std::string message;
};

struct RecorderOptions {
  std::string name = "pollwake";
  // Nanoseconds, monotonic. Empty: std::chrono::steady_clock since the
  // recorder was made. Tests inject a counter here.
  std::function<std::uint64_t()> clock;
  std::uint64_t long_poll_ns = 10'000'000;  // 10 ms
  // A task is a busy loop when it woke itself at least this often and was
  // never woken by anything else.
  std::uint64_t self_wake_loop_min = 64;
};

// Called by the "already queued" hook inside an executor's wake path: marks
// the wake this thread is forwarding, if any.
void note_already_queued() noexcept;

class Recorder;

template <class F>
class Recorded;

template <class T>
inline constexpr bool kIsRecorded = false;
template <class F>
inline constexpr bool kIsRecorded<Recorded<F>> = true;

class Recorder {
 public:
  explicit Recorder(RecorderOptions options = {});
  ~Recorder();  // detaches from every executor; aborts if still referred to (above)
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Wraps `future` as a recorded task (a spawn event now; its polls, wakes
  // and end later). `name` defaults to "file:line" of `where`.
  template <class F>
    requires Future<std::remove_cvref_t<F>>
  Recorded<std::remove_cvref_t<F>> wrap(F&& future,
                                        SourceLocation where = SourceLocation::current(),
                                        std::string name = {}) {
    std::uint64_t task = on_spawn(where, std::move(name));
    return Recorded<std::remove_cvref_t<F>>(this, std::forward<F>(future), task);
  }

  // Per executor, with recording compiled in: every spawn on an attached
  // executor is wrapped. Keys: a LocalPool's address; a ThreadPool's
  // recorder_key() (shared by its copies); nullptr for block_on. Use
  // key_of(executor).
  void attach(const void* executor_key);
  void detach(const void* executor_key);
  template <class E>
  static const void* key_of(const E& executor) noexcept {
    if constexpr (requires { executor.recorder_key(); }) {
      return executor.recorder_key();
    } else {
      return &executor;
    }
  }
  template <class E>
  void attach_to(const E& executor) { attach(key_of(executor)); }

  // The recorder for `executor_key`: the attached one, else the process's
  // environment recorder (POLLWAKE_RECORD_OUT set), else nullptr.
  static Recorder* for_executor(const void* executor_key) noexcept;
  // The recorder that POLLWAKE_RECORD_OUT=path asks for, or nullptr. At
  // exit it writes the trace to `path` (Chrome JSON, or the HTML timeline
  // when `path` ends in .html; a relative path is taken from the directory
  // `bazel run` was called in) and prints the lints on stderr.
  static Recorder* from_environment() noexcept;

  // The executor hooks' park bracket (the calling thread sleeps), for the
  // recorder of `executor_key` if any: looked up, and called, under the
  // registry's lock, so a recorder being destroyed is never reached.
  static void park(const void* executor_key, bool begin);
  void park_begin();
  // A reactor turn on this thread found `fd` ready (`bits`: ReadinessBits),
  // for the recorder of `executor_key` if any (looked up as park() does).
  // The reactor's runtimes call it through their readiness observer.
  static void readiness(const void* executor_key, int fd, std::uint32_t bits);
  void on_readiness(int fd, std::uint32_t bits);
  void park_end();

  std::vector<Event> events() const;
  // What points at a bug (every kind but kLateWake).
  std::vector<Lint> lints() const;
  // Informational (kLateWake): what happened, not a bug.
  std::vector<Lint> notes() const;
  // The lints as printed at the end of a run: one line each, or
  // "recorder: no lints"; then the notes, one "recorder: note: ..." each.
  std::string lint_report() const;
  // Chrome trace event JSON: pid 1 has one track per thread (tid: the
  // thread's id), pid 2 one per task (tid: task_tid_base() + the task's id,
  // so no tid names both a thread and a task: Perfetto's importer takes a
  // tid for one thread whatever its pid); flow events (ph "s"/"f") join
  // each wake (and spawn) to the poll it caused.
  std::string chrome_trace_json() const;
  // The smallest power of ten, at least 1000, above every thread id of the
  // trace.
  std::uint64_t task_tid_base() const;
  // A self-contained HTML page (inline CSS and JS, no network) that draws the
  // same trace as a timeline and lists the lints.
  std::string html_timeline(std::string_view title) const;

  // --- the recording boundary (Recorded<F> and the recording waker) ---
  struct WakerNode;  // recorder.cc
  // While alive on a thread, wakers dropped there do not make a task lost.
  struct DropScope {
    DropScope() noexcept;
    ~DropScope();
    DropScope(const DropScope&) = delete;
    DropScope& operator=(const DropScope&) = delete;
  };
  std::uint64_t now() const;
  std::uint64_t on_spawn(SourceLocation where, std::string name);
  // Returns the poll's start time. Sets the thread's "polling" task.
  std::uint64_t on_poll_begin(std::uint64_t task, std::uint64_t* saved_polling);
  void on_poll_end(std::uint64_t task, std::uint64_t start, PollResult result,
                   std::uint64_t saved_polling);
  // The task's drop began: its wakers dropped from now on (any thread) are
  // teardown. Then on_task_drop when its future is gone.
  void on_task_drop_begin(std::uint64_t task);
  void on_task_drop(std::uint64_t task);
  // A recording waker for `task` around `inner` (a clone of it): the one a
  // poll hands to the future. Not counted as a live waker (the executor
  // owns the poll's waker); clones of it are.
  RawWaker make_poll_waker(std::uint64_t task, const Waker& inner);
  static const RawWakerVTable kWakerVTable;

 private:
  struct TaskInfo {
    std::string name;
    std::string file;
    std::uint32_t line = 0;
    std::uint64_t polls = 0;
    std::uint64_t self_wakes = 0;
    std::uint64_t other_wakes = 0;
    std::uint64_t wakes_after_complete = 0;  // the lint: from the final poll's wakers
    std::uint64_t late_wakes = 0;            // the note: from earlier polls' wakers
    std::uint64_t late_waker = 0;            // the first late wake's waker,
    std::uint64_t late_origin = 0;           //   the poll it was cloned in,
    std::uint32_t late_thread = 0;           //   the thread that woke it
    std::uint64_t long_polls = 0;
    std::uint64_t max_poll_ns = 0;
    std::int64_t live_wakers = 0;  // cloned recording wakers alive
    std::uint64_t pending_flow = 0;
    bool last_pending = false;
    bool woken_since_poll = false;
    bool polling = false;
    bool finished = false;  // completed
    bool dropping = false;  // its drop began
    bool dropped = false;
    bool lost = false;      // judged lost (see the rules above LintKind)
    bool unwakeable = false;          // its last waker went while it waited...
    std::uint64_t unwakeable_at = 0;  // ...when progress_ was this
    std::uint64_t current_flow = 0;  // the flow the running poll ends
  };
  friend struct WakerNode;
  void on_wake(WakerNode* node, bool by_ref);
  WakerNode* on_clone(const WakerNode* from);
  void on_waker_drop(WakerNode* node);
  // The task's last waker went (outside any drop scope).
  void note_unwakeable(TaskInfo& t) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void lints_into(std::vector<Lint>* lints, std::vector<Lint>* notes) const;
  std::uint32_t thread_id();

  RecorderOptions options_;
  std::uint64_t epoch_ns_ = 0;
  std::vector<const void*> attached_;  // under the registry's lock
  mutable absl::Mutex mu_;
  std::vector<Event> events_ ABSL_GUARDED_BY(mu_);
  std::deque<TaskInfo> tasks_ ABSL_GUARDED_BY(mu_);  // task id - 1 (ids are dense)
  TaskInfo& info(std::uint64_t id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return tasks_[id - 1]; }
  std::uint64_t next_task_ ABSL_GUARDED_BY(mu_) = 1;
  std::uint64_t next_waker_ ABSL_GUARDED_BY(mu_) = 1;
  std::uint64_t next_flow_ ABSL_GUARDED_BY(mu_) = 1;
  // Counts spawns, polls and parks: "the run went on" (lost-waker).
  std::uint64_t progress_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::uint64_t, std::uint32_t> park_start_ ABSL_GUARDED_BY(mu_);
  // Wakes, waker drops and task drops in progress on any thread. Each one's
  // last access to *this is its release decrement (see ~Recorder).
  std::atomic<std::int64_t> in_flight_{0};
};

// ParkScope: the bracket of POLLWAKE_RECORD_PARKED. The park begins in the
// constructor and ends in the destructor, so a park whose statement throws
// (a reactor turn that fails) still ends.
class ParkScope {
 public:
  explicit ParkScope(const void* executor_key) : key_(executor_key) { Recorder::park(key_, true); }
  ~ParkScope() { Recorder::park(key_, false); }
  ParkScope(const ParkScope&) = delete;
  ParkScope& operator=(const ParkScope&) = delete;

 private:
  const void* key_;
};

// InPlace<F>: polls a future that stays where it is (the caller's lvalue
// that block_on and run_until poll in place), so that the hooks can record
// it without moving or copying it.
template <class F>
class InPlace {
 public:
  using Output = OutputOf<F>;
  explicit InPlace(F& future) noexcept : future_(&future) {}
  Poll<Output> poll(Context& cx) { return future_->poll(cx); }

 private:
  F* future_;
};

// A recorded task: `F` polled under a recording waker, with each poll, its
// result and duration, and the future's end recorded. Moving it moves the
// task: the moved-from shell holds no future, records nothing, and throws
// FuturePolledAfterCompletion if polled.
template <class F>
class Recorded {
 public:
  using Output = OutputOf<F>;

  Recorded(Recorder* recorder, F future, std::uint64_t task)
      : recorder_(recorder), task_(task), future_(std::in_place, std::move(future)) {}
  Recorded(Recorded&& other) noexcept(std::is_nothrow_move_constructible_v<F>)
      : recorder_(std::exchange(other.recorder_, nullptr)), task_(other.task_),
        future_(std::move(other.future_)) {
    other.future_.reset();
  }
  Recorded& operator=(Recorded&&) = delete;
  Recorded(const Recorded&) = delete;
  ~Recorded() {
    // The task's wakers, and those of other tasks its future held, go while
    // it is being dropped: teardown, not a lost waker.
    if (recorder_ != nullptr) recorder_->on_task_drop_begin(task_);
    {
      Recorder::DropScope scope;
      future_.reset();
    }
    if (recorder_ != nullptr) recorder_->on_task_drop(task_);
  }

  // [START recorded_poll]
  Poll<Output> poll(Context& cx) {
    if (!future_ || recorder_ == nullptr) polled_after_completion("record::Recorded");
    Waker waker = Waker::from_raw(recorder_->make_poll_waker(task_, cx.waker()));
    Context rcx = Context::from_waker(waker);
    std::uint64_t saved = 0;
    std::uint64_t start = recorder_->on_poll_begin(task_, &saved);
    try {
      Poll<Output> p = future_->poll(rcx);
      recorder_->on_poll_end(task_, start, p.is_ready() ? PollResult::kReady : PollResult::kPending,
                             saved);
      return p;
    } catch (...) {
      recorder_->on_poll_end(task_, start, PollResult::kThrew, saved);
      throw;
    }
  }
  // [END recorded_poll]

  std::uint64_t task_id() const noexcept { return task_; }

 private:
  Recorder* recorder_;
  std::uint64_t task_;
  std::optional<F> future_;
};

}  // namespace pollwake::record

#endif  // POLLWAKE_EXECUTOR_RECORD_RECORDER_H_
