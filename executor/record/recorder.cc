// executor/record/recorder.cc: the event log, the recording waker, the
// per-executor registry and the exports (see recorder.h).

#include "executor/record/recorder.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include "poll/annotated_lock.h"

namespace pollwake::record {
// The lock: absl::Mutex with the edges ThreadSanitizer needs (Debian's
// Abseil is not built with TSan); see poll/annotated_lock.h.
using Lock = ::pollwake::MutexLock;

const char* to_string(EventKind kind) noexcept {
  switch (kind) {
    case EventKind::kSpawn: return "spawn";
    case EventKind::kPoll: return "poll";
    case EventKind::kWake: return "wake";
    case EventKind::kWakeByRef: return "wake_by_ref";
    case EventKind::kWakerClone: return "waker_clone";
    case EventKind::kWakerDrop: return "waker_drop";
    case EventKind::kComplete: return "complete";
    case EventKind::kCancel: return "cancel";
    case EventKind::kDrop: return "drop";
    case EventKind::kPark: return "park";
    case EventKind::kReadiness: return "readiness";
  }
  return "?";
}

const char* to_string(PollResult result) noexcept {
  switch (result) {
    case PollResult::kPending: return "Pending";
    case PollResult::kReady: return "Ready";
    case PollResult::kThrew: return "threw";
  }
  return "?";
}

const char* to_string(LintKind kind) noexcept {
  switch (kind) {
    case LintKind::kLostWaker: return "lost-waker";
    case LintKind::kWakeAfterComplete: return "wake-after-complete";
    case LintKind::kSelfWakeLoop: return "self-wake-loop";
    case LintKind::kLongPoll: return "long-poll";
    case LintKind::kLeakedWaker: return "leaked-waker";
    case LintKind::kLateWake: return "late-wake";
  }
  return "?";
}

namespace {

// Per-thread state. Plain thread_locals: each is read and written by its own
// thread only.
std::atomic<std::uint32_t> g_next_thread{1};
thread_local std::uint32_t tls_thread = 0;
thread_local const Recorder* tls_polling_recorder = nullptr;
thread_local std::uint64_t tls_polling_task = 0;
thread_local int tls_dropping = 0;
struct WakeNote {
  bool active = false;
  bool already_queued = false;
};
thread_local WakeNote tls_wake;

// The registry of attached recorders.
absl::Mutex g_registry_mu;
absl::flat_hash_map<const void*, Recorder*>& registry() ABSL_EXCLUSIVE_LOCKS_REQUIRED(g_registry_mu) {
  static auto* map = new absl::flat_hash_map<const void*, Recorder*>();
  return *map;
}
std::atomic<std::size_t> g_attached{0};

// Calls record(r) for the recorder attached to `executor_key`, looked up and
// called under the registry's lock (~Recorder leaves the registry first, so
// a recorder being destroyed is never reached), else for the environment
// recorder if there is one. The executors' park and readiness hooks.
template <class Record>
void RecordFor(const void* executor_key, Record&& record) {
  // ORDERING: relaxed; see Recorder::attach.
  if (g_attached.load(std::memory_order_relaxed) != 0) {
    Lock lock(&g_registry_mu);
    auto it = registry().find(executor_key);
    if (it != registry().end()) {
      record(*it->second);
      return;
    }
  }
  if (Recorder* env = Recorder::from_environment()) record(*env);
}

}  // namespace

void note_already_queued() noexcept {
  if (tls_wake.active) tls_wake.already_queued = true;
}

Recorder::DropScope::DropScope() noexcept { ++tls_dropping; }
Recorder::DropScope::~DropScope() { --tls_dropping; }

struct Recorder::WakerNode {
  Recorder* recorder;
  std::uint64_t task;
  std::uint64_t id;  // 0: the poll's own waker (not counted)
  Waker inner;
  std::uint64_t origin_poll = 0;  // the task's poll this waker (or its source) was cloned in
};

namespace {
using Node = Recorder::WakerNode;
}

// SAFETY: `data` is always a WakerNode* made by make_poll_waker or on_clone,
// alive until the drop or wake that consumes it.
const RawWakerVTable Recorder::kWakerVTable{
    [](const void* data) -> RawWaker {
      auto* node = static_cast<const Node*>(data);
      return RawWaker{node->recorder->on_clone(node), &kWakerVTable};
    },
    [](const void* data) {
      auto* node = const_cast<Node*>(static_cast<const Node*>(data));
      node->recorder->on_wake(node, /*by_ref=*/false);  // also drops the node
    },
    [](const void* data) {
      auto* node = const_cast<Node*>(static_cast<const Node*>(data));
      node->recorder->on_wake(node, /*by_ref=*/true);
    },
    [](const void* data) {
      auto* node = const_cast<Node*>(static_cast<const Node*>(data));
      node->recorder->on_waker_drop(node);
    },
};

Recorder::Recorder(RecorderOptions options) : options_(std::move(options)) {
  if (!options_.clock) {
    auto start = std::chrono::steady_clock::now();
    options_.clock = [start] {
      return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                            std::chrono::steady_clock::now() - start)
                                            .count());
    };
  }
}

Recorder::~Recorder() {
  {
    // First out of the registry: no park (looked up and made under the
    // registry's lock) and no new lookup reaches this recorder from now on.
    Lock lock(&g_registry_mu);
    for (const void* key : attached_) {
      auto it = registry().find(key);
      if (it != registry().end() && it->second == this) {
        registry().erase(it);
        // ORDERING: relaxed; the count is a hint read before taking the lock.
        g_attached.fetch_sub(1, std::memory_order_relaxed);
      }
    }
  }
  // Then the wakes, waker drops and task drops other threads are still
  // inside. A wake by value wakes its task before its own bookkeeping ends
  // (the woken task may finish, and its owner destroy this recorder, while
  // the waking thread still has to record the wake's duration and count its
  // waker gone); each of those calls counted itself in in_flight_ before its
  // first access to *this and decrements it as its very last one.
  // ORDERING: acquire, pairing with that release decrement: every access a
  // finished call made happens before the checks below and the destruction.
  // A call that starts after this load reads 0 held a waker or a task that
  // is still counted below, so the checks stop the process first.
  while (in_flight_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
  {
    // The documented misuse (recorder.h): tasks or wakers that still point
    // here would write into freed memory later. Stop now, saying why.
    Lock lock(&mu_);
    std::int64_t tasks = 0, wakers = 0;
    for (const TaskInfo& t : tasks_) {
      tasks += t.dropped ? 0 : 1;
      wakers += t.live_wakers;
    }
    if (tasks != 0 || wakers != 0) {
      std::fprintf(stderr,
                   "pollwake::record::Recorder destroyed while %lld recorded task(s) and %lld "
                   "waker(s) still refer to it (a Recorder must outlive what it recorded)\n",
                   static_cast<long long>(tasks), static_cast<long long>(wakers));
      std::abort();
    }
  }
}

void Recorder::attach(const void* executor_key) {
  Lock lock(&g_registry_mu);
  auto [it, inserted] = registry().insert_or_assign(executor_key, this);
  // ORDERING: relaxed. A spawn that must see this attachment is ordered after
  // it by the caller (same thread, or a synchronization the caller made);
  // the count then reads non-zero and the lookup takes the lock, which
  // orders the map.
  if (inserted) g_attached.fetch_add(1, std::memory_order_relaxed);
  attached_.push_back(executor_key);
}

void Recorder::detach(const void* executor_key) {
  Lock lock(&g_registry_mu);
  auto it = registry().find(executor_key);
  if (it == registry().end() || it->second != this) return;
  registry().erase(it);
  // ORDERING: relaxed, as in attach.
  g_attached.fetch_sub(1, std::memory_order_relaxed);
  attached_.erase(std::remove(attached_.begin(), attached_.end(), executor_key), attached_.end());
}

void Recorder::park(const void* executor_key, bool begin) {
  RecordFor(executor_key, [begin](Recorder& r) { begin ? r.park_begin() : r.park_end(); });
}

void Recorder::readiness(const void* executor_key, int fd, std::uint32_t bits) {
  RecordFor(executor_key, [fd, bits](Recorder& r) { r.on_readiness(fd, bits); });
}

Recorder* Recorder::for_executor(const void* executor_key) noexcept {
  // ORDERING: relaxed; see attach.
  if (g_attached.load(std::memory_order_relaxed) != 0) {
    Lock lock(&g_registry_mu);
    auto it = registry().find(executor_key);
    if (it != registry().end()) return it->second;
  }
  return from_environment();
}

namespace {

std::string& env_path() {
  static auto* path = new std::string();
  return *path;
}

void write_env_recording() {
  Recorder* rec = Recorder::from_environment();
  if (rec == nullptr) return;
  const std::string& path = env_path();
  bool html = path.size() >= 5 && path.compare(path.size() - 5, 5, ".html") == 0;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (html) {
    out << rec->html_timeline(path.substr(path.find_last_of('/') + 1));
  } else {
    out << rec->chrome_trace_json();
  }
  out.close();
  std::fprintf(stderr, "recorder: %zu events written to %s%s\n", rec->events().size(), path.c_str(),
               out ? "" : " (FAILED to write)");
  std::fprintf(stderr, "%s", rec->lint_report().c_str());
}

Recorder* make_env_recorder() {
  const char* out = std::getenv("POLLWAKE_RECORD_OUT");
  if (out == nullptr || *out == '\0') return nullptr;
  std::string path = out;
  const char* cwd = std::getenv("BUILD_WORKING_DIRECTORY");  // set by `bazel run`
  if (path[0] != '/' && cwd != nullptr && *cwd != '\0') path = std::string(cwd) + "/" + path;
  env_path() = path;
  RecorderOptions options;
  if (const char* ms = std::getenv("POLLWAKE_RECORD_LONG_POLL_MS")) {
    options.long_poll_ns = std::strtoull(ms, nullptr, 10) * 1'000'000;
  }
  auto* rec = new Recorder(std::move(options));  // never destroyed: outlives every task
  std::atexit(write_env_recording);
  return rec;
}

}  // namespace

Recorder* Recorder::from_environment() noexcept {
  static Recorder* const rec = make_env_recorder();
  return rec;
}

std::uint64_t Recorder::now() const { return options_.clock(); }

std::uint32_t Recorder::thread_id() {
  if (tls_thread == 0) {
    // ORDERING: relaxed; only uniqueness matters.
    tls_thread = g_next_thread.fetch_add(1, std::memory_order_relaxed);
  }
  return tls_thread;
}

std::uint64_t Recorder::on_spawn(SourceLocation where, std::string name) {
  std::uint64_t ts = now();
  std::uint32_t thread = thread_id();
  Lock lock(&mu_);
  ++progress_;
  std::uint64_t id = next_task_++;
  TaskInfo& t = tasks_.emplace_back();
  t.file = where.file_name();
  t.line = where.line();
  std::string file = t.file.substr(t.file.find_last_of('/') + 1);  // npos + 1 == 0
  t.name = name.empty() ? absl::StrCat(file, ":", t.line) : std::move(name);
  t.pending_flow = next_flow_++;
  Event e{EventKind::kSpawn};
  e.ts_ns = ts;
  e.thread = thread;
  e.task = id;
  e.flow = t.pending_flow;
  events_.push_back(e);
  return id;
}

std::uint64_t Recorder::on_poll_begin(std::uint64_t task, std::uint64_t* saved_polling) {
  *saved_polling = tls_polling_recorder == this ? tls_polling_task : 0;
  tls_polling_recorder = this;
  tls_polling_task = task;
  Lock lock(&mu_);
  TaskInfo& t = info(task);
  ++progress_;
  ++t.polls;
  t.polling = true;
  t.current_flow = std::exchange(t.pending_flow, 0);
  t.woken_since_poll = false;
  t.lost = false;  // polled again after all
  t.unwakeable = false;
  return now();
}

void Recorder::on_poll_end(std::uint64_t task, std::uint64_t start, PollResult result,
                           std::uint64_t saved_polling) {
  std::uint64_t end = now();
  tls_polling_task = saved_polling;
  tls_polling_recorder = saved_polling != 0 ? this : nullptr;
  Lock lock(&mu_);
  TaskInfo& t = info(task);
  ++progress_;
  t.polling = false;
  std::uint64_t dur = end >= start ? end - start : 0;
  t.max_poll_ns = std::max(t.max_poll_ns, dur);
  if (dur > options_.long_poll_ns) ++t.long_polls;
  Event e{EventKind::kPoll};
  e.ts_ns = start;
  e.dur_ns = dur;
  e.thread = thread_id();
  e.task = task;
  e.flow = std::exchange(t.current_flow, 0);
  e.result = result;
  events_.push_back(e);
  if (result == PollResult::kPending) {
    t.last_pending = true;
    // Pending, no waker kept and no wake pending: nothing can ever wake it,
    // whatever happens next (the future's own doing, never a teardown's).
    if (!t.woken_since_poll && t.live_wakers == 0) t.lost = true;
  } else {
    t.last_pending = false;
    t.finished = true;
    Event c{EventKind::kComplete};
    c.ts_ns = end;
    c.thread = e.thread;
    c.task = task;
    c.result = result;
    events_.push_back(c);
  }
}

void Recorder::on_task_drop_begin(std::uint64_t task) {
  // ORDERING: relaxed increment (nothing to publish); release decrement, the
  // last access to *this (see ~Recorder).
  in_flight_.fetch_add(1, std::memory_order_relaxed);
  {
    Lock lock(&mu_);
    TaskInfo& t = info(task);
    t.dropping = true;
    // Its last waker went earlier: lost if the run went on meanwhile (a
    // poll, park or spawn); if nothing happened between, the waker and the
    // task went in one teardown, in whichever order it chose.
    if (t.unwakeable && progress_ != t.unwakeable_at) t.lost = true;
    t.unwakeable = false;
  }
  in_flight_.fetch_sub(1, std::memory_order_release);
}

void Recorder::on_task_drop(std::uint64_t task) {
  in_flight_.fetch_add(1, std::memory_order_relaxed);  // ORDERING: as above
  {
    std::uint64_t ts = now();
    Lock lock(&mu_);
    TaskInfo& t = info(task);
    t.dropped = true;
    Event e{t.finished ? EventKind::kDrop : EventKind::kCancel};
    e.ts_ns = ts;
    e.thread = thread_id();
    e.task = task;
    events_.push_back(e);
  }
  in_flight_.fetch_sub(1, std::memory_order_release);
}

void Recorder::note_unwakeable(TaskInfo& t) {
  if (t.last_pending && !t.polling && !t.woken_since_poll && !t.finished && !t.dropping &&
      !t.dropped && t.live_wakers == 0 && tls_dropping == 0) {
    t.unwakeable = true;
    t.unwakeable_at = progress_;
  }
}

RawWaker Recorder::make_poll_waker(std::uint64_t task, const Waker& inner) {
  auto* node = new Node{this, task, 0, inner};
  return RawWaker{node, &kWakerVTable};
}

Recorder::WakerNode* Recorder::on_clone(const WakerNode* from) {
  std::uint64_t ts = now();
  auto* node = new Node{this, from->task, 0, from->inner};  // clones the inner waker
  Lock lock(&mu_);
  node->id = next_waker_++;
  TaskInfo& t = info(from->task);
  // Cloned from the poll's own waker: during that poll. Else the source's.
  node->origin_poll = from->id == 0 ? t.polls : from->origin_poll;
  ++t.live_wakers;
  Event e{EventKind::kWakerClone};
  e.ts_ns = ts;
  e.thread = thread_id();
  e.task = from->task;
  e.waker = node->id;
  e.other = from->id;
  e.origin_poll = node->origin_poll;
  events_.push_back(e);
  return node;
}

void Recorder::on_waker_drop(WakerNode* node) {
  if (node->id != 0) {
    // ORDERING: relaxed increment; release decrement, the last access to
    // *this (see ~Recorder).
    in_flight_.fetch_add(1, std::memory_order_relaxed);
    {
      std::uint64_t ts = now();
      Lock lock(&mu_);
      TaskInfo& t = info(node->task);
      --t.live_wakers;
      Event e{EventKind::kWakerDrop};
      e.ts_ns = ts;
      e.thread = thread_id();
      e.task = node->task;
      e.waker = node->id;
      e.origin_poll = node->origin_poll;
      events_.push_back(e);
      note_unwakeable(t);
    }
    in_flight_.fetch_sub(1, std::memory_order_release);
  }
  delete node;  // drops the inner waker: the executor's code, not the recorder's
}

void Recorder::on_wake(WakerNode* node, bool by_ref) {
  // ORDERING: relaxed increment; release decrement, the last access to
  // *this (see ~Recorder).
  in_flight_.fetch_add(1, std::memory_order_relaxed);
  std::uint64_t ts = now();
  std::uint32_t thread = thread_id();
  std::size_t index;
  {
    Lock lock(&mu_);
    TaskInfo& t = info(node->task);
    bool own = tls_polling_recorder == this && tls_polling_task == node->task;
    Event e{by_ref ? EventKind::kWakeByRef : EventKind::kWake};
    e.ts_ns = ts;
    e.thread = thread;
    e.task = node->task;
    e.waker = node->id;
    e.from_own_poll = own;
    e.origin_poll = node->origin_poll;
    if (t.finished || t.dropping || t.dropped) {
      e.late = true;
      // Cloned during the poll that finished the task: the future left its
      // waker registered when it returned Ready (the lint). Cloned earlier:
      // a registration that outlived a task that ended another way (a note).
      if (t.finished && node->id != 0 && node->origin_poll == t.polls) {
        ++t.wakes_after_complete;
      } else if (t.late_wakes++ == 0) {
        t.late_waker = node->id;
        t.late_origin = node->origin_poll;
        t.late_thread = thread;
      }
    } else {
      ++(own ? t.self_wakes : t.other_wakes);
      if (t.pending_flow == 0) t.pending_flow = next_flow_++, e.flow = t.pending_flow;
      t.woken_since_poll = true;
      t.lost = false;
      t.unwakeable = false;
    }
    if (!by_ref && node->id != 0) {
      // The wake consumes the waker: it is gone (not a drop event). Counted
      // here, before the inner wake: once that runs, the task may finish
      // and its owner read the lints while this thread is still below, and
      // a consumed waker must not show as leaked.
      --t.live_wakers;
      note_unwakeable(t);
    }
    index = events_.size();
    events_.push_back(e);
  }
  WakeNote saved = std::exchange(tls_wake, WakeNote{true, false});
  if (by_ref) {
    node->inner.wake_by_ref();
  } else {
    Waker inner = std::move(node->inner);
    std::move(inner).wake();
  }
  bool queued = tls_wake.already_queued;
  tls_wake = saved;
  {
    std::uint64_t end = now();
    Lock lock(&mu_);
    events_[index].dur_ns = end >= ts ? end - ts : 0;
    events_[index].already_queued = queued;
  }
  in_flight_.fetch_sub(1, std::memory_order_release);
  if (!by_ref) delete node;  // its inner waker was moved out and consumed
}

void Recorder::park_begin() {
  std::uint64_t ts = now();
  std::uint32_t thread = thread_id();
  Lock lock(&mu_);
  ++progress_;
  Event e{EventKind::kPark};
  e.ts_ns = ts;
  e.thread = thread;
  park_start_[thread] = static_cast<std::uint32_t>(events_.size());
  events_.push_back(e);
}

void Recorder::on_readiness(int fd, std::uint32_t bits) {
  std::uint64_t ts = now();
  std::uint32_t thread = thread_id();
  Lock lock(&mu_);
  Event e{EventKind::kReadiness};
  e.ts_ns = ts;
  e.thread = thread;
  e.other = static_cast<std::uint64_t>(fd);
  e.readiness = bits;
  events_.push_back(e);
}

void Recorder::park_end() {
  std::uint64_t ts = now();
  std::uint32_t thread = thread_id();
  Lock lock(&mu_);
  auto it = park_start_.find(thread);
  if (it == park_start_.end()) return;
  Event& e = events_[it->second];
  e.dur_ns = ts >= e.ts_ns ? ts - e.ts_ns : 0;
  park_start_.erase(it);
}

std::vector<Event> Recorder::events() const {
  Lock lock(&mu_);
  return events_;
}

std::vector<Lint> Recorder::lints() const {
  std::vector<Lint> out;
  lints_into(&out, nullptr);
  return out;
}

std::vector<Lint> Recorder::notes() const {
  std::vector<Lint> out;
  lints_into(nullptr, &out);
  return out;
}

void Recorder::lints_into(std::vector<Lint>* lints, std::vector<Lint>* notes) const {
  std::vector<Lint> ignored;
  std::vector<Lint>& out = lints != nullptr ? *lints : ignored;
  Lock lock(&mu_);
  for (std::uint64_t id = 1; id <= tasks_.size(); ++id) {
    const TaskInfo& t = tasks_[id - 1];
    std::string who = absl::StrCat("task ", id, " (", t.name, ")");
    // Still alive and unwakeable when read: lost, whatever comes next.
    bool waiting = t.unwakeable && !t.dropping && !t.dropped;
    if ((t.lost || waiting) && !t.finished) {
      out.push_back({LintKind::kLostWaker, id,
                     absl::StrCat(who, " returned Pending on poll ", t.polls,
                                  " and no waker for it is alive: nothing can ever wake it")});
    }
    if (t.wakes_after_complete > 0) {
      out.push_back({LintKind::kWakeAfterComplete, id,
                     absl::StrCat(who, " was woken ", t.wakes_after_complete,
                                  " time(s) after it completed, by a waker cloned in its last poll "
                                  "(", t.polls, ", which returned Ready): the future left its "
                                  "waker registered when it finished")});
    }
    if (notes != nullptr && t.late_wakes > 0) {
      notes->push_back(
          {LintKind::kLateWake, id,
           absl::StrCat(who, " was woken ", t.late_wakes, " time(s) after it ",
                        t.finished ? "completed" : "was dropped", "; the first by waker ",
                        t.late_waker, t.late_waker == 0 ? " (its poll's own)" : "",
                        " cloned in poll ", t.late_origin, " (which returned Pending), from thread ",
                        t.late_thread, ": a registration that outlived the task; the wake is "
                        "ignored")});
    }
    if (t.self_wakes >= options_.self_wake_loop_min && t.other_wakes == 0) {
      out.push_back({LintKind::kSelfWakeLoop, id,
                     absl::StrCat(who, " woke only itself (", t.self_wakes, " times in ", t.polls,
                                  " polls): a busy loop that never waits for anything")});
    }
    if (t.long_polls > 0) {
      out.push_back({LintKind::kLongPoll, id,
                     absl::StrFormat("%s had %u poll(s) longer than %.3f ms (longest %.3f ms): "
                                     "blocking inside poll stalls its executor",
                                     who, t.long_polls, options_.long_poll_ns / 1e6,
                                     t.max_poll_ns / 1e6)});
    }
    if ((t.finished || t.dropped) && t.live_wakers > 0) {
      out.push_back({LintKind::kLeakedWaker, id,
                     absl::StrCat(who, " has ", t.live_wakers, " waker(s) still alive after it ",
                                  t.finished ? "completed" : "was dropped")});
    }
  }
}

std::string Recorder::lint_report() const {
  std::vector<Lint> all, info_notes;
  lints_into(&all, &info_notes);
  std::string out;
  if (all.empty()) out = "recorder: no lints\n";
  for (const Lint& l : all) absl::StrAppend(&out, "recorder: ", to_string(l.kind), ": ", l.message, "\n");
  for (const Lint& l : info_notes) {
    absl::StrAppend(&out, "recorder: note: ", to_string(l.kind), ": ", l.message, "\n");
  }
  return out;
}

namespace {

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string us(std::uint64_t ns) { return absl::StrFormat("%.3f", ns / 1000.0); }

constexpr int kThreadsPid = 1;
constexpr int kTasksPid = 2;

}  // namespace

std::uint64_t Recorder::task_tid_base() const {
  std::uint32_t max_thread = 0;
  {
    Lock lock(&mu_);
    for (const Event& e : events_) max_thread = std::max(max_thread, e.thread);
  }
  std::uint64_t base = 1000;
  while (base <= max_thread) base *= 10;
  return base;
}

std::string Recorder::chrome_trace_json() const {
  std::vector<Event> evs = events();
  std::vector<Lint> lint_list, note_list;
  lints_into(&lint_list, &note_list);
  std::vector<std::pair<std::uint64_t, std::string>> task_names;
  {
    Lock lock(&mu_);
    for (std::uint64_t id = 1; id <= tasks_.size(); ++id) task_names.emplace_back(id, tasks_[id - 1].name);
  }
  std::set<std::uint32_t> threads;
  std::set<std::uint64_t> flows_ended;
  std::uint64_t base = 1000;  // task_tid_base(), of this snapshot
  for (const Event& e : evs) {
    threads.insert(e.thread);
    while (base <= e.thread) base *= 10;
    if (e.kind == EventKind::kPoll && e.flow != 0) flows_ended.insert(e.flow);
  }
  // A task's track: its own tid, above every thread's.
  auto task_tid = [base](std::uint64_t id) { return base + id; };
  std::vector<std::string> out;
  auto meta = [&](int pid, std::uint64_t tid, const char* what, const std::string& name) {
    out.push_back(absl::StrCat("{\"ph\":\"M\",\"name\":\"", what, "\",\"pid\":", pid, ",\"tid\":", tid,
                               ",\"ts\":0,\"args\":{\"name\":", json_string(name), "}}"));
  };
  meta(kThreadsPid, 0, "process_name", "threads");
  meta(kTasksPid, 0, "process_name", "tasks");
  for (std::uint32_t th : threads) meta(kThreadsPid, th, "thread_name", absl::StrCat("thread ", th));
  for (const auto& [id, name] : task_names) {
    meta(kTasksPid, task_tid(id), "thread_name", absl::StrCat("task ", id, " ", name));
  }
  auto slice = [&](int pid, std::uint64_t tid, const std::string& name, const std::string& cat,
                   std::uint64_t ts, std::uint64_t dur, const std::string& args) {
    out.push_back(absl::StrCat("{\"ph\":\"X\",\"name\":", json_string(name), ",\"cat\":\"", cat,
                               "\",\"pid\":", pid, ",\"tid\":", tid, ",\"ts\":", us(ts),
                               ",\"dur\":", us(dur), ",\"args\":{", args, "}}"));
  };
  auto instant = [&](int pid, std::uint64_t tid, const std::string& name, std::uint64_t ts,
                     const std::string& args) {
    out.push_back(absl::StrCat("{\"ph\":\"i\",\"s\":\"t\",\"name\":", json_string(name),
                               ",\"cat\":\"task\",\"pid\":", pid, ",\"tid\":", tid, ",\"ts\":", us(ts),
                               ",\"args\":{", args, "}}"));
  };
  auto flow = [&](char ph, int pid, std::uint64_t tid, std::uint64_t id, std::uint64_t ts) {
    out.push_back(absl::StrCat("{\"ph\":\"", std::string(1, ph), "\",\"name\":\"wake\",\"cat\":\"wake\",",
                               ph == 'f' ? "\"bp\":\"e\"," : "", "\"id\":", id, ",\"pid\":", pid,
                               ",\"tid\":", tid, ",\"ts\":", us(ts), "}"));
  };
  for (const Event& e : evs) {
    std::string task = absl::StrCat("\"task\":", e.task);
    switch (e.kind) {
      case EventKind::kSpawn:
        // At least 1 ns, so that the flow's start has a slice to bind to.
        slice(kThreadsPid, e.thread, absl::StrCat("spawn task ", e.task), "spawn", e.ts_ns, 1, task);
        instant(kTasksPid, task_tid(e.task), "spawned", e.ts_ns, absl::StrCat(task, ",\"thread\":", e.thread));
        if (flows_ended.count(e.flow)) flow('s', kThreadsPid, e.thread, e.flow, e.ts_ns);
        break;
      case EventKind::kPoll: {
        std::string args = absl::StrCat(task, ",\"result\":\"", to_string(e.result),
                                        "\",\"thread\":", e.thread);
        slice(kThreadsPid, e.thread, absl::StrCat("poll task ", e.task), "poll", e.ts_ns, e.dur_ns, args);
        slice(kTasksPid, task_tid(e.task), absl::StrCat("poll -> ", to_string(e.result)), "poll", e.ts_ns,
              e.dur_ns, args);
        if (e.flow != 0) flow('f', kTasksPid, task_tid(e.task), e.flow, e.ts_ns);
        break;
      }
      case EventKind::kWake:
      case EventKind::kWakeByRef:
        slice(kThreadsPid, e.thread, absl::StrCat(to_string(e.kind), " task ", e.task), "wake", e.ts_ns,
              std::max<std::uint64_t>(e.dur_ns, 1),
              absl::StrCat(task, ",\"waker\":", e.waker, ",\"already_queued\":",
                           e.already_queued ? "true" : "false", ",\"from_own_poll\":",
                           e.from_own_poll ? "true" : "false", ",\"origin_poll\":", e.origin_poll,
                           ",\"after_end\":", e.late ? "true" : "false"));
        if (e.flow != 0 && flows_ended.count(e.flow)) flow('s', kThreadsPid, e.thread, e.flow, e.ts_ns);
        break;
      case EventKind::kWakerClone:
        instant(kTasksPid, task_tid(e.task), "waker clone", e.ts_ns,
                absl::StrCat("\"waker\":", e.waker, ",\"from\":", e.other, ",\"thread\":", e.thread));
        break;
      case EventKind::kWakerDrop:
        instant(kTasksPid, task_tid(e.task), "waker drop", e.ts_ns,
                absl::StrCat("\"waker\":", e.waker, ",\"thread\":", e.thread));
        break;
      case EventKind::kComplete:
        instant(kTasksPid, task_tid(e.task), e.result == PollResult::kThrew ? "complete (threw)" : "complete",
                e.ts_ns, task);
        break;
      case EventKind::kCancel:
      case EventKind::kDrop:
        instant(kTasksPid, task_tid(e.task), to_string(e.kind), e.ts_ns, task);
        break;
      case EventKind::kPark:
        slice(kThreadsPid, e.thread, "parked", "park", e.ts_ns, e.dur_ns, "");
        break;
      case EventKind::kReadiness: {
        std::string what;
        for (auto [bit, name] : {std::pair{kReadinessRead, "read"}, std::pair{kReadinessWrite, "write"},
                                 std::pair{kReadinessHangup, "hangup"},
                                 std::pair{kReadinessError, "error"}}) {
          if (e.readiness & bit) absl::StrAppend(&what, what.empty() ? "" : "+", name);
        }
        if (what.empty()) what = "none";
        instant(kThreadsPid, e.thread, absl::StrCat("fd ", e.other, " ready: ", what), e.ts_ns,
                absl::StrCat("\"fd\":", e.other, ",\"ready\":\"", what, "\""));
        break;
      }
    }
  }
  std::string json = "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"recorder\":";
  absl::StrAppend(&json, json_string(options_.name), ",\"lints\":[");
  for (std::size_t i = 0; i < lint_list.size(); ++i) {
    absl::StrAppend(&json, i ? "," : "", "{\"kind\":\"", to_string(lint_list[i].kind),
                    "\",\"task\":", lint_list[i].task, ",\"message\":", json_string(lint_list[i].message),
                    "}");
  }
  absl::StrAppend(&json, "],\"notes\":[");
  for (std::size_t i = 0; i < note_list.size(); ++i) {
    absl::StrAppend(&json, i ? "," : "", "{\"kind\":\"", to_string(note_list[i].kind),
                    "\",\"task\":", note_list[i].task, ",\"message\":", json_string(note_list[i].message),
                    "}");
  }
  json += "]},\"traceEvents\":[\n";
  for (std::size_t i = 0; i < out.size(); ++i) absl::StrAppend(&json, i ? ",\n" : "", out[i]);
  json += "\n]}\n";
  return json;
}

}  // namespace pollwake::record
