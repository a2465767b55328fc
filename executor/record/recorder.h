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
// those futures cloned (as a pool must outlive its spawner's tasks); its
// destructor checks, and stops the process with a message saying how many
// tasks and wakers still refer to it. The
// recorder attached through POLLWAKE_RECORD_OUT is created on first use and
// never destroyed, so it outlives everything.

#ifndef POLLWAKE_EXECUTOR_RECORD_RECORDER_H_
#define POLLWAKE_EXECUTOR_RECORD_RECORDER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <source_location>
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
};

enum class LintKind : std::uint8_t {
  kLostWaker,          // left Pending with no live waker: it can never wake
  kWakeAfterComplete,  // a wake arrived for a task that had completed
  kSelfWakeLoop,       // the task only ever woke itself (a busy loop)
  kLongPoll,           // a poll took longer than the threshold (blocking in poll)
  kLeakedWaker,        // wakers still alive after their task finished
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
                                        std::source_location where = std::source_location::current(),
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

  // The executor hooks' park bracket (the calling thread sleeps).
  void park_begin();
  void park_end();

  std::vector<Event> events() const;
  std::vector<Lint> lints() const;
  // The lints as printed at the end of a run: one line each, or
  // "recorder: no lints".
  std::string lint_report() const;
  // Chrome trace event JSON: pid 1 has one track per thread, pid 2 one per
  // task; flow events (ph "s"/"f") join each wake (and spawn) to the poll it
  // caused.
  std::string chrome_trace_json() const;
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
  std::uint64_t on_spawn(std::source_location where, std::string name);
  // Returns the poll's start time. Sets the thread's "polling" task.
  std::uint64_t on_poll_begin(std::uint64_t task, std::uint64_t* saved_polling);
  void on_poll_end(std::uint64_t task, std::uint64_t start, PollResult result,
                   std::uint64_t saved_polling);
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
    std::uint64_t wakes_after_complete = 0;
    std::uint64_t long_polls = 0;
    std::uint64_t max_poll_ns = 0;
    std::int64_t live_wakers = 0;  // cloned recording wakers alive
    std::uint64_t pending_flow = 0;
    bool last_pending = false;
    bool woken_since_poll = false;
    bool polling = false;
    bool finished = false;  // completed
    bool dropped = false;
    bool lost = false;      // Pending, not woken, and its last waker went
    std::uint64_t current_flow = 0;  // the flow the running poll ends
  };
  friend struct WakerNode;
  void on_wake(WakerNode* node, bool by_ref);
  WakerNode* on_clone(const WakerNode* from);
  void on_waker_drop(WakerNode* node, bool record);
  void check_lost(TaskInfo& t) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
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
  absl::flat_hash_map<std::uint64_t, std::uint32_t> park_start_ ABSL_GUARDED_BY(mu_);
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
    {
      // First the future: the wakers it held go while the task is being
      // dropped, which is teardown, not a lost waker.
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
