// tests/poll/annotated_lock_test.cc: AnnotatedLockTest.
//
// The TSan annotations of poll/annotated_lock.h must add exactly
// the edges absl::Mutex gives: writer -> anyone, reader -> writer, and NOT
// reader -> reader (two readers that write must still be reported). Without
// TSan the annotations are no-ops and there is nothing to check, so these
// tests skip there and say so.
#include <atomic>
#include <cstdlib>
#include <thread>

#include <gtest/gtest.h>

#include "absl/synchronization/mutex.h"
#include "poll/annotated_lock.h"

namespace {

#if defined(__SANITIZE_THREAD__)
constexpr bool kTsan = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr bool kTsan = true;
#else
constexpr bool kTsan = false;
#endif
#else
constexpr bool kTsan = false;
#endif

absl::Mutex g_mu;
int g_x = 0;
// ORDERING: relaxed on purpose: TSan draws no happens-before edge from a
// relaxed store to a relaxed load, so the only edges are the lock's.
std::atomic<bool> g_first_done{false};

// The first thread holds a reader lock while it touches g_x (writes when
// `first_writes`); the second waits (relaxed) until it is done, then takes
// a reader or writer lock and writes g_x. Exits the process: TSan's exit
// code (66) says whether it reported a race.
[[noreturn]] void RunPair(bool first_writes, bool second_is_writer) {
  std::thread a([&] {
    pollwake::ReaderMutexLock lock(&g_mu);
    if (first_writes) {
      g_x = 1;
    } else {
      volatile int v = g_x;
      (void)v;
    }
    g_first_done.store(true, std::memory_order_relaxed);
  });
  std::thread b([&] {
    while (!g_first_done.load(std::memory_order_relaxed)) std::this_thread::yield();
    if (second_is_writer) {
      pollwake::MutexLock lock(&g_mu);
      g_x = 2;
    } else {
      pollwake::ReaderMutexLock lock(&g_mu);
      g_x = 2;
    }
  });
  a.join();
  b.join();
  std::exit(0);
}

TEST(AnnotatedLockTest, TwoReadersThatWriteAreStillReportedAsARace) {
  if (!kTsan) GTEST_SKIP() << "the annotations are no-ops without ThreadSanitizer";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(RunPair(/*first_writes=*/true, /*second_is_writer=*/false),
              ::testing::ExitedWithCode(66), "data race");
}

TEST(AnnotatedLockTest, AReaderIsOrderedBeforeTheNextWriter) {
  if (!kTsan) GTEST_SKIP() << "the annotations are no-ops without ThreadSanitizer";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(RunPair(/*first_writes=*/false, /*second_is_writer=*/true),
              ::testing::ExitedWithCode(0), "");
}

}  // namespace
