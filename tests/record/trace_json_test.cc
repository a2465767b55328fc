// tests/record/trace_json_test.cc: the recorder's Chrome trace JSON checked
// against the trace event format (trace_validator.h) for recorded LocalPool
// and ThreadPool runs, the validator itself on broken traces, and the HTML
// page's embedded copy of the trace.

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "executor/block_on.h"
#include "executor/local_pool.h"
#include "executor/record/recorder.h"
#include "executor/thread_pool.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "poll/ready.h"
#include "tests/record/trace_validator.h"
#include "tests/support/gate.h"
#include "tests/support/watchdog.h"

namespace pollwake::record {
namespace {

// A clock that advances 1 us per reading: traces stay ordered, and no poll
// looks long however slow the machine (sanitizers) is.
inline RecorderOptions ticking(RecorderOptions o = {}) {
  auto now = std::make_shared<std::atomic<std::uint64_t>>(0);
  o.clock = [now] { return now->fetch_add(1000) + 1000; };
  return o;
}

using testing::Gate;
using testing::GateFuture;
using testing::validate_trace;
using testing::YieldFuture;

int count_kind(const std::vector<Event>& evs, EventKind kind) {
  int n = 0;
  for (const Event& e : evs) n += e.kind == kind;
  return n;
}

TEST(RecorderTraceTest, LocalPoolTraceIsValidTraceEventJson) {
  Recorder rec(ticking());
  {
    LocalPool pool;
    auto first = std::make_shared<Gate>();
    auto second = std::make_shared<Gate>();
    pool.spawner().spawn_local(rec.wrap(GateFuture<>(first)));
    pool.spawner().spawn_local(rec.wrap(GateFuture<>(second)));
    pool.spawner().spawn_local(rec.wrap(YieldFuture(3, "yield", nullptr)));
    pool.spawner().spawn_local(rec.wrap(poll_fn([first](Context&) -> Poll<Unit> {
      first->open_and_wake();  // a wake from another task
      return Ready();
    })));
    pool.run_until_stalled();
    second->open_and_wake();  // a wake from outside the pool
    pool.run_until_stalled();
  }
  std::vector<Event> evs = rec.events();
  EXPECT_EQ(count_kind(evs, EventKind::kSpawn), 4);
  EXPECT_EQ(count_kind(evs, EventKind::kComplete), 4);
  EXPECT_EQ(count_kind(evs, EventKind::kDrop), 4);
  int polls = count_kind(evs, EventKind::kPoll);
  EXPECT_EQ(polls, 2 + 2 + 4 + 1);

  testing::TraceSummary sum = validate_trace(rec.chrome_trace_json());
  EXPECT_TRUE(sum.problems.empty()) << testing::join_problems(sum);
  EXPECT_EQ(sum.task_tracks, 4);
  EXPECT_EQ(sum.thread_tracks, 1);
  // Task 1's track is tid task_tid_base() + 1, never a thread's tid.
  std::string json = rec.chrome_trace_json();
  EXPECT_NE(json.find(absl::StrCat("\"pid\":2,\"tid\":", rec.task_tid_base() + 1, ",")), std::string::npos);
  EXPECT_EQ(sum.by_name["poll"], 2 * polls);  // on the thread's track and the task's
  // Every poll was caused by a spawn or a wake: one arrow each.
  EXPECT_EQ(sum.flows, polls);
  EXPECT_TRUE(rec.lints().empty()) << rec.lint_report();
}

TEST(RecorderTraceTest, ThreadPoolTraceHasATrackPerThreadAndTask) {
  testing::Watchdog dog("recorded ThreadPool run");
  Recorder rec(ticking());
  constexpr int kTasks = 4;
  {
    ThreadPool pool = ThreadPool::builder().pool_size(2).create();
    std::vector<std::shared_ptr<Gate>> gates;
    std::vector<ThreadPoolHandle<Unit>> handles;
    for (int i = 0; i < kTasks; ++i) {
      gates.push_back(std::make_shared<Gate>());
      handles.push_back(pool.spawn_with_handle(rec.wrap(GateFuture<>(gates.back()))));
    }
    for (auto& g : gates) g->open_and_wake();  // wakes from the test's thread
    for (auto& h : handles) block_on(rec.wrap(std::move(h)));
  }
  testing::TraceSummary sum = validate_trace(rec.chrome_trace_json());
  EXPECT_TRUE(sum.problems.empty()) << testing::join_problems(sum);
  EXPECT_EQ(sum.task_tracks, 2 * kTasks);  // the pool's tasks and the block_on calls
  EXPECT_GE(sum.thread_tracks, 2);         // the test's thread and at least one worker
  EXPECT_GE(sum.flows, 2 * kTasks);        // at least a spawn arrow per task
  // Threads and tasks have tracks of their own (the validator checks that
  // no tid is shared); task tids start above every thread id.
  EXPECT_EQ(rec.task_tid_base(), 1000u);
  std::vector<Event> evs = rec.events();
  EXPECT_EQ(count_kind(evs, EventKind::kComplete), 2 * kTasks);
}

TEST(RecorderTraceTest, HtmlEmbedsTheTraceWithoutNetworkReferences) {
  Recorder rec(ticking());
  {
    LocalPool pool;
    pool.spawner().spawn_local(rec.wrap(YieldFuture(2, "y", nullptr), SourceLocation::current(),
                                        "a </script> in a name"));
    pool.run_until_stalled();
  }
  std::string html = rec.html_timeline("unit <test>");
  EXPECT_NE(html.find("<title>unit &lt;test&gt;</title>"), std::string::npos);
  const std::string open = "<script id=\"trace-data\" type=\"application/json\">";
  std::size_t begin = html.find(open);
  ASSERT_NE(begin, std::string::npos);
  begin += open.size();
  std::size_t end = html.find("</script>", begin);
  ASSERT_NE(end, std::string::npos);
  std::string embedded = html.substr(begin, end - begin);
  testing::TraceSummary sum = validate_trace(embedded);
  EXPECT_TRUE(sum.problems.empty()) << testing::join_problems(sum);
  EXPECT_EQ(sum.task_tracks, 1);
  // Self-contained: nothing is fetched.
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find(" src="), std::string::npos);
  EXPECT_EQ(html.find("https:"), std::string::npos);
  EXPECT_EQ(html.find("url(http"), std::string::npos);
}

TEST(TraceValidatorTest, AcceptsAMinimalTrace) {
  auto sum = validate_trace(
      R"({"traceEvents":[{"ph":"B","ts":1,"pid":1,"tid":1,"name":"a"},)"
      R"({"ph":"s","id":7,"ts":1.5,"pid":1,"tid":1,"name":"w"},)"
      R"({"ph":"E","ts":2,"pid":1,"tid":1,"name":"a"},)"
      R"({"ph":"X","ts":3,"dur":1,"pid":1,"tid":2,"name":"b"},)"
      R"({"ph":"f","bp":"e","id":7,"ts":3,"pid":1,"tid":2,"name":"w"}]})");
  EXPECT_TRUE(sum.problems.empty()) << testing::join_problems(sum);
  EXPECT_EQ(sum.slices, 2);
  EXPECT_EQ(sum.flows, 1);
}

TEST(TraceValidatorTest, RejectsBrokenTraces) {
  auto problems = [](const std::string& json) { return validate_trace(json).problems.size(); };
  EXPECT_GT(problems("{\"traceEvents\":["), 0u);                                        // not JSON
  EXPECT_GT(problems(R"({"events":[]})"), 0u);                                          // no traceEvents
  EXPECT_GT(problems(R"({"traceEvents":[{"ph":"X","ts":1,"pid":1,"name":"a","dur":1}]})"), 0u);  // no tid
  EXPECT_GT(problems(R"({"traceEvents":[{"ph":"X","ts":1,"pid":1,"tid":1,"name":"a"}]})"), 0u);  // no dur
  EXPECT_GT(problems(R"({"traceEvents":[{"ph":"E","ts":1,"pid":1,"tid":1,"name":"a"}]})"), 0u);  // E alone
  EXPECT_GT(problems(R"({"traceEvents":[{"ph":"B","ts":1,"pid":1,"tid":1,"name":"a"}]})"), 0u);  // B alone
  EXPECT_GT(problems(R"({"traceEvents":[{"ph":"s","id":1,"ts":1,"pid":1,"tid":1,"name":"w"}]})"),
            0u);  // flow start without finish
  EXPECT_GT(problems(R"({"traceEvents":[{"ph":"s","id":1,"ts":5,"pid":1,"tid":1,"name":"w"},)"
                     R"({"ph":"f","id":1,"ts":2,"pid":1,"tid":1,"name":"w"}]})"),
            0u);  // finishes before it starts
  EXPECT_GT(problems(R"({"traceEvents":[{"ph":"M","ts":0,"pid":1,"tid":1,"name":"thread_name"},)"
                     R"({"ph":"M","ts":0,"pid":2,"tid":1,"name":"thread_name"}]})"),
            0u);  // one tid for a thread track and a task track
}

}  // namespace
}  // namespace pollwake::record
