// tests/model/wake_protocol_model_test.cc
//
// Runs the Promela models of the wake protocol through Debian's `spin`:
// `spin -a model.pml` writes the verifier pan.c, `cc -DSAFETY` builds it,
// and `./pan` searches every interleaving of the model's processes for a
// state that breaks an assert or leaves a process blocked outside an `end`
// label. The correct models must report `errors: 0` after a complete search;
// each deliberately broken variant must report an error, and for the reason
// it was broken (the failing assertion is checked), so the models are known
// to be able to fail.
//
// Needs spin and cc from the machine (the target is tagged "local"). It
// takes a few seconds per model, most of it compiling pan.c.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <regex>
#include <string>

#include "gtest/gtest.h"

namespace {

struct Verdict {
  int exit_status = -1;  // of the whole spin | cc | pan pipeline
  int errors = -1;       // pan's "errors: N", -1 if it never got that far
  bool truncated = false;
  std::string output;
};

std::string Runfile(const std::string& path) {
  char cwd[4096];
  if (getcwd(cwd, sizeof cwd) == nullptr) return path;
  return std::string(cwd) + "/" + path;
}

// Verifies `model` (a file tests/model/<model>.pml) with `define` (-D flags
// for spin's preprocessor, or "") in a fresh directory of its own.
Verdict Verify(const std::string& model, const std::string& define) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string name = "spin_" + model + define;
  for (char& c : name) {
    if (c == '-' || c == '=' || c == ' ') c = '_';
  }
  std::string dir = std::string(tmp ? tmp : "/tmp") + "/" + name;
  mkdir(dir.c_str(), 0755);
  // -m: the search depth bound; every model here needs under 200 steps, and
  // pan says "max search depth too small" if a run ever needs more.
  std::string cmd = "cd '" + dir + "' && spin " + define + " -a '" +
                    Runfile("tests/model/" + model + ".pml") +
                    "' 2>&1 && cc -O0 -w -DSAFETY -o pan pan.c 2>&1 && ./pan -m10000 2>&1";
  Verdict v;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) {
    v.output = "popen failed";
    return v;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) v.output.append(buf, n);
  int status = pclose(p);
  v.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::smatch m;
  if (std::regex_search(v.output, m, std::regex(R"(errors: (\d+))"))) {
    v.errors = std::stoi(m[1]);
  }
  v.truncated = v.output.find("max search depth too small") != std::string::npos;
  return v;
}

// `defines` are -D flags for spin's preprocessor (a model's variant).
void ExpectHolds(const std::string& model, const std::string& defines = "") {
  Verdict v = Verify(model, defines);
  ASSERT_EQ(v.errors, 0) << model << ".pml " << defines
                         << ": the model check found a violation (or did not run):\n"
                         << v.output;
  EXPECT_FALSE(v.truncated) << model << ".pml " << defines
                            << ": the search hit the depth bound, so it did not "
                            << "cover every interleaving:\n" << v.output;
}

// `violated` is a piece of the assertion pan must name as violated.
void ExpectFails(const std::string& model, const std::string& defines,
                 const std::string& violated) {
  Verdict v = Verify(model, defines);
  ASSERT_NE(v.errors, -1) << model << ".pml " << defines
                          << ": spin, cc or pan did not run to the end:\n" << v.output;
  ASSERT_GT(v.errors, 0) << model << ".pml " << defines
                         << ": the broken model passed the check, so the check "
                         << "cannot tell it from the real protocol:\n" << v.output;
  EXPECT_NE(v.output.find("assertion violated " + violated), std::string::npos)
      << model << ".pml " << defines << " failed, but not on " << violated << ":\n"
      << v.output;
}

constexpr char kLostWakeup[] = "(state==3)|| !(wake_unserved)";  // thread_pool.pml
constexpr char kBlockOnLostWakeup[] = "(done|| !(wake_unserved))";  // block_on.pml
constexpr char kLocalPoolLostWakeup[] = "(seen==(2*2))";  // local_pool.pml

TEST(WakeProtocolModelTest, LocalPoolModelHasNoLostWakeup) {
  ExpectHolds("local_pool");
}

TEST(WakeProtocolModelTest, BrokenLocalPoolLoadAndReturnWakeLosesWakeup) {
  // a wake that sees kScheduled with a plain load and returns
  ExpectFails("local_pool", "-DBROKEN_LOAD_AND_RETURN", kLocalPoolLostWakeup);
}

TEST(WakeProtocolModelTest, BrokenLocalPoolPlainClearLosesWakeup) {
  // the pool clears kScheduled with a plain store before the poll
  ExpectFails("local_pool", "-DBROKEN_POOL_PLAIN_CLEAR", kLocalPoolLostWakeup);
}

TEST(WakeProtocolModelTest, ThreadPoolModelHasNoLostWakeup) {
  ExpectHolds("thread_pool");
}

TEST(WakeProtocolModelTest, BrokenThreadPoolWithoutRepollLosesWakeup) {
  // a wake during POLLING that does not set REPOLL
  ExpectFails("thread_pool", "-DBROKEN_NO_REPOLL", std::string("(") + kLostWakeup);
}

TEST(WakeProtocolModelTest, BrokenThreadPoolRequeueWhilePollingQueuesTwice) {
  ExpectFails("thread_pool", "-DBROKEN_REQUEUE_IN_POLLING", "(queued<=1)");
}

TEST(WakeProtocolModelTest, BrokenThreadPoolEarlyWaitingPollsConcurrently) {
  ExpectFails("thread_pool", "-DBROKEN_EARLY_WAITING", "(polling==0)");
}

TEST(WakeProtocolModelTest, BrokenThreadPoolWakeRevivesCompletedTask) {
  ExpectFails("thread_pool", "-DBROKEN_WAKE_REVIVES", "((( !(completed)");
}

TEST(WakeProtocolModelTest, BrokenThreadPoolRegisterAfterWaitingLeavesDanglingEntry) {
  ExpectFails("thread_pool", "-DBROKEN_REGISTER_AFTER_WAITING", " !((in_registry&&(state==3)))");
}

TEST(WakeProtocolModelTest, ThreadPoolModelUnderMemoryOrderingHasNoLostWakeup) {
  // what each poll is guaranteed to see by release/acquire, not by SC
  ExpectHolds("thread_pool", "-DMEMORY -DWAKERS=2");
}

TEST(WakeProtocolModelTest, BrokenThreadPoolRelaxedRepollStoreLosesWakeup) {
  // REPOLL -> POLLING as a relaxed store after the failed CAS
  ExpectFails("thread_pool", "-DMEMORY -DWAKERS=2 -DBROKEN_RELAXED_REPOLL_STORE",
              "(state==3)");
}

TEST(WakeProtocolModelTest, ThreadPoolModelWithShutdownHasNoLostWakeupOrLeak) {
  ExpectHolds("thread_pool", "-DSHUTDOWN");
}

TEST(WakeProtocolModelTest, BrokenCleanupThatSkipsPollingTaskFreesPoolUnderWaker) {
  ExpectFails("thread_pool", "-DSHUTDOWN -DBROKEN_CLEANUP_SKIPS_POLLING", " !(pool_freed)");
}

TEST(WakeProtocolModelTest, BlockOnFutexParkModelHasNoLostWakeup) {
  ExpectHolds("block_on");
}

TEST(WakeProtocolModelTest, BlockOnCondvarParkModelHasNoLostWakeup) {
  ExpectHolds("block_on", "-DCONDVAR");
}

TEST(WakeProtocolModelTest, BlockOnSpinThenParkModelHasNoLostWakeup) {
  ExpectHolds("block_on", "-DSPIN");
}

TEST(WakeProtocolModelTest, BrokenParkModelFails) {
  // a park that sleeps without looking at the flag
  ExpectFails("block_on", "-DBROKEN_PARK_WITHOUT_FLAG", kBlockOnLostWakeup);
}

TEST(WakeProtocolModelTest, BrokenCondvarUnparkWithoutLockFails) {
  ExpectFails("block_on", "-DCONDVAR -DBROKEN_NOTIFY_WITHOUT_LOCK", kBlockOnLostWakeup);
}

TEST(WakeProtocolModelTest, BrokenResetAfterEveryPollFails) {
  ExpectFails("block_on", "-DBROKEN_CLEAR_AFTER_POLL", kBlockOnLostWakeup);
}

}  // namespace
