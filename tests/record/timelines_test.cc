// tests/record/timelines_test.cc: the timelines the docs embed
// (docs/timelines/, written by generate.sh from running each example with
// the recorder on). In every build: one page per example that generate.sh
// lists, each a page whose embedded trace is valid trace event JSON with
// tasks, polls and arrows. Built with the recorder (`--config=record`, as
// generate.sh builds the examples), the test also runs each example the
// way generate.sh does and compares the committed page with that fresh
// recording. Timestamps, durations and thread ids differ on every run, so it
// compares the structure: the tasks (in spawn order, named by their spawn
// location), each task's events in order (spawned, waker clone/drop, each
// poll's result, complete/cancel/drop), and the lints and notes. Long-poll
// lints are left out: they measure the wall clock. An example edited
// without regenerating its page fails here.

#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <sys/wait.h>

#include "gtest/gtest.h"
#include "tests/record/trace_validator.h"

namespace pollwake::testing {
namespace {

std::string runfile(const std::string& rel) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  return std::string(srcdir != nullptr ? srcdir : ".") + "/pollwake/" + rel;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> listed_examples() {
  std::string script = slurp(runfile("docs/timelines/generate.sh"));
  std::smatch m;
  std::vector<std::string> out;
  if (!std::regex_search(script, m, std::regex(R"(EXAMPLES=\(([^)]*)\))"))) return out;
  std::stringstream names(m[1].str());
  for (std::string n; names >> n;) out.push_back(n);
  return out;
}

// The trace embedded in a timeline page.
std::string embedded_trace(const std::string& html) {
  const std::string open = "<script id=\"trace-data\" type=\"application/json\">";
  std::size_t begin = html.find(open);
  if (begin == std::string::npos) return {};
  begin += open.size();
  std::size_t end = html.find("</script>", begin);
  if (end == std::string::npos) return {};
  return html.substr(begin, end - begin);
}

TEST(TimelinesTest, EachListedExampleHasAValidTimeline) {
  std::vector<std::string> examples = listed_examples();
  ASSERT_GE(examples.size(), 3u) << "generate.sh lists no examples";
  for (const std::string& e : examples) {
    SCOPED_TRACE(e);
    std::string html = slurp(runfile("docs/timelines/" + e + ".html"));
    ASSERT_FALSE(html.empty()) << "docs/timelines/" << e << ".html is missing: run generate.sh";
    EXPECT_NE(html.find("<title>" + e + ".html</title>"), std::string::npos);
    std::string trace = embedded_trace(html);
    ASSERT_FALSE(trace.empty()) << "no embedded trace";
    TraceSummary sum = validate_trace(trace);
    EXPECT_TRUE(sum.problems.empty()) << join_problems(sum);
    EXPECT_GE(sum.task_tracks, 1);
    EXPECT_GE(sum.thread_tracks, 1);
    EXPECT_GE(sum.by_name["poll"], 2);
    EXPECT_GE(sum.flows, 1);
    EXPECT_NE(html.find("document.body.dataset.rendered = 'yes'"), std::string::npos);
  }
}

// What a recording of one run is, leaving out what changes on every run:
// one line per task ("task N <where>: event, event, ..."), then one per
// lint or note ("lint <kind> task N"), long-poll lints left out.
std::string structure(const std::string& trace) {
  Json root;
  JsonParser parser(trace);
  if (!parser.parse(root)) return "not JSON: " + parser.error();
  const Json* events = root.get("traceEvents");
  if (events == nullptr) return "no traceEvents";
  std::map<double, std::string> tasks;              // tid -> track name
  std::map<double, std::vector<std::string>> seq;   // tid -> its events
  for (const Json& e : events->array) {
    const Json* ph = e.get("ph");
    const Json* pid = e.get("pid");
    const Json* tid = e.get("tid");
    const Json* name = e.get("name");
    if (!ph || !pid || !tid || !name || pid->number != 2) continue;
    if (ph->string == "M") {
      if (name->string == "thread_name") tasks[tid->number] = e.get("args")->get("name")->string;
    } else if (ph->string == "X" || ph->string == "i") {
      seq[tid->number].push_back(name->string);
    }
  }
  std::string out;
  for (const auto& [tid, name] : tasks) {
    out += name + ":";
    for (const std::string& ev : seq[tid]) out += " " + ev + ",";
    out += "\n";
  }
  const Json* other = root.get("otherData");
  for (const char* list : {"lints", "notes"}) {
    const Json* items = other != nullptr ? other->get(list) : nullptr;
    if (items == nullptr) continue;
    for (const Json& l : items->array) {
      if (l.get("kind")->string == "long-poll") continue;
      out += std::string(list) + " " + l.get("kind")->string + " task " +
             std::to_string(static_cast<long long>(l.get("task")->number)) + "\n";
    }
  }
  return out;
}

#if defined(POLLWAKE_RECORD) && POLLWAKE_RECORD
constexpr bool kRecorderCompiledIn = true;
#else
constexpr bool kRecorderCompiledIn = false;
#endif

// The arguments an example needs (as its BUILD target's `args`), passed to
// this test through its environment.
std::string example_args(const std::string& example) {
  if (example == "12_ffi_plugin") {
    const char* plugin = std::getenv("FFI_PLUGIN");
    return plugin != nullptr ? std::string(" '") + plugin + "'" : "";
  }
  return "";
}

TEST(TimelinesTest, CommittedTimelinesMatchAFreshRecording) {
  if (!kRecorderCompiledIn) {
    GTEST_SKIP() << "the examples record only with the recorder compiled in: "
                    "bazel test --config=record //tests/record:timelines_test";
  }
  const char* tmp = std::getenv("TEST_TMPDIR");
  ASSERT_NE(tmp, nullptr);
  for (const std::string& e : listed_examples()) {
    SCOPED_TRACE(e);
    std::string out = std::string(tmp) + "/" + e + ".html";
    ASSERT_EQ(setenv("POLLWAKE_RECORD_OUT", out.c_str(), 1), 0);
    // Bounded: a hung example fails the test (timeout exits 124).
    std::string cmd = "timeout -k 10 120 '" + runfile("examples/" + e) + "'" + example_args(e) +
                      " >/dev/null 2>'" + out + ".stderr'";
    int status = std::system(cmd.c_str());
    unsetenv("POLLWAKE_RECORD_OUT");
    ASSERT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << cmd << " failed (status " << status << "): " << slurp(out + ".stderr");
    std::string fresh = embedded_trace(slurp(out));
    ASSERT_FALSE(fresh.empty()) << e << " wrote no timeline: " << slurp(out + ".stderr");
    std::string committed = embedded_trace(slurp(runfile("docs/timelines/" + e + ".html")));
    EXPECT_EQ(structure(committed), structure(fresh))
        << "docs/timelines/" << e << ".html is stale: run bash docs/timelines/generate.sh";
  }
}

TEST(TimelinesTest, TheTourLinksEveryTimeline) {
  std::string chapter = slurp(runfile("docs/14_recorder.md"));
  ASSERT_FALSE(chapter.empty());
  for (const std::string& e : listed_examples()) {
    EXPECT_NE(chapter.find("(timelines/" + e + ".html)"), std::string::npos) << e;
  }
}

}  // namespace
}  // namespace pollwake::testing
