// tests/record/html_render_test.cc: the recorder's HTML timeline opened in
// headless Chromium (Debian's `chromium`), and the DOM its script built
// checked: a track per thread and per task, a bar per poll, an arrow per
// wake-to-poll flow, the lints listed. Runs a foreign program: tagged
// "foreign", so CI runs it once, in the default configuration. Each
// chromium run is bounded (kChromiumSeconds): a hung browser fails the test.

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <atomic>
#include <memory>
#include <optional>
#include <regex>
#include <string>

#include "executor/local_pool.h"
#include "executor/record/recorder.h"
#include "gtest/gtest.h"
#include "poll/ready.h"
#include "tests/support/gate.h"

namespace pollwake::record {
namespace {

// A clock that advances 1 us per reading: traces stay ordered, and no poll
// looks long however slow the machine (sanitizers) is.
inline RecorderOptions ticking(RecorderOptions o = {}) {
  auto now = std::make_shared<std::atomic<std::uint64_t>>(0);
  o.clock = [now] { return now->fetch_add(1000) + 1000; };
  return o;
}

std::string tmpdir() {
  const char* t = std::getenv("TEST_TMPDIR");
  return t != nullptr ? t : "/tmp";
}

// How long one chromium run may take before it is killed (coreutils
// `timeout`, TERM then KILL 10 s later): a hung browser then fails the test
// with a message instead of hanging it until Bazel's own timeout.
constexpr int kChromiumSeconds = 120;

// The DOM after the page's script ran (--virtual-time-budget lets it run;
// the budget is virtual time, not a wall-clock wait). An empty DOM, and a
// test failure saying why, when chromium failed or had to be killed.
std::string render(const std::string& html, const std::string& name) {
  std::string path = tmpdir() + "/" + name + ".html";
  std::ofstream(path) << html;
  std::string cmd = "HOME='" + tmpdir() + "' timeout -k 10 " + std::to_string(kChromiumSeconds) +
                    " chromium --headless --no-sandbox --disable-gpu " +
                    "--no-first-run --disable-extensions --disable-dev-shm-usage " +
                    "--virtual-time-budget=5000 --dump-dom 'file://" + path + "' 2>/dev/null";
  std::string dom;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) {
    ADD_FAILURE() << "could not start chromium";
    return dom;
  }
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) dom.append(buf, n);
  int status = pclose(p);
  int code = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code == 124 || code == 137) {
    ADD_FAILURE() << "chromium did not finish within " << kChromiumSeconds
                  << " s and was killed (timeout exit " << code << ")";
    return {};
  }
  if (code != 0) ADD_FAILURE() << "chromium exited with status " << code;
  return dom;
}

int count(const std::string& s, const std::string& what) {
  int n = 0;
  for (std::size_t i = s.find(what); i != std::string::npos; i = s.find(what, i + 1)) ++n;
  return n;
}

int attr(const std::string& dom, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(dom, m, std::regex("data-" + name + "=\"([0-9]+)\""))) return -1;
  return std::stoi(m[1]);
}

class HtmlRenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("command -v chromium >/dev/null 2>&1") != 0) {
      FAIL() << "Debian's `chromium` is not installed (.ci/deps.sh installs it)";
    }
    if (std::system("command -v timeout >/dev/null 2>&1") != 0) {
      FAIL() << "coreutils' `timeout` is missing (it bounds each chromium run)";
    }
  }
};

TEST_F(HtmlRenderTest, DrawsTracksPollsAndWakeArrows) {
  Recorder rec(ticking());
  int polls = 0;
  {
    LocalPool pool;
    auto gate = std::make_shared<testing::Gate>();
    pool.spawner().spawn_local(rec.wrap(testing::GateFuture<>(gate), SourceLocation::current(),
                                        "waits at the gate"));
    pool.spawner().spawn_local(rec.wrap(testing::YieldFuture(2, "y", nullptr),
                                        SourceLocation::current(), "yields twice"));
    pool.spawner().spawn_local(rec.wrap(poll_fn([gate](Context&) -> Poll<Unit> {
                                          gate->open_and_wake();
                                          return Ready();
                                        }),
                                        SourceLocation::current(), "opens the gate"));
    pool.run_until_stalled();
  }
  for (const Event& e : rec.events()) polls += e.kind == EventKind::kPoll;
  ASSERT_EQ(polls, 2 + 3 + 1);

  std::string dom = render(rec.html_timeline("three tasks"), "three_tasks");
  ASSERT_NE(dom.find("data-rendered=\"yes\""), std::string::npos) << "the script did not run:\n" << dom;
  EXPECT_EQ(attr(dom, "tracks"), 4);  // one thread, three tasks
  EXPECT_EQ(count(dom, "class=\"track thread\""), 1);
  EXPECT_EQ(count(dom, "class=\"track task\""), 3);
  EXPECT_NE(dom.find("data-track=\"task 1 waits at the gate\""), std::string::npos);
  EXPECT_NE(dom.find("data-track=\"task 3 opens the gate\""), std::string::npos);
  EXPECT_EQ(attr(dom, "polls"), polls);
  EXPECT_EQ(count(dom, "class=\"ev poll Ready\""), 2 * 3);  // thread track and task track
  EXPECT_EQ(count(dom, "class=\"ev poll Pending\""), 2 * 3);
  EXPECT_EQ(attr(dom, "flows"), polls);  // each poll caused by a spawn or a wake
  EXPECT_EQ(count(dom, "class=\"flow\""), polls);
  EXPECT_NE(dom.find("class=\"clean\""), std::string::npos);  // "no lints"
}

TEST_F(HtmlRenderTest, ListsTheLintsThenTheNotes) {
  Recorder rec(ticking());
  std::optional<Waker> timer;
  {
    LocalPool pool;
    pool.spawner().spawn_local(rec.wrap(poll_fn([](Context&) -> Poll<Unit> { return Pending; })));
    pool.spawner().spawn_local(rec.wrap(poll_fn([&](Context& cx) -> Poll<Unit> {
      timer.emplace(cx.waker());
      return Pending;
    })));
    pool.run_until_stalled();
  }
  std::move(*timer).wake();  // after the pool cancelled it: a note
  timer.reset();
  std::string dom = render(rec.html_timeline("a lost waker"), "lost_waker");
  ASSERT_NE(dom.find("data-rendered=\"yes\""), std::string::npos) << dom;
  EXPECT_EQ(count(dom, "class=\"lint\" data-kind=\"lost-waker\""), 1) << dom;
  EXPECT_EQ(count(dom, "class=\"note\" data-kind=\"late-wake\""), 1) << dom;
  EXPECT_EQ(dom.find("class=\"clean\""), std::string::npos);
}

}  // namespace
}  // namespace pollwake::record
