// tests/executor/block_on_alloc_test.cc: block_on's ready path allocates
// nothing (its parker is built once per thread). This file replaces the
// global operator new to count allocations, so it is its own test binary.
#include <atomic>
#include <cstdlib>
#include <new>

#include <gtest/gtest.h>

#include "executor/block_on.h"
#include "poll/ready.h"

namespace {
thread_local long tls_allocations = 0;
}  // namespace

void* operator new(std::size_t size) {
  ++tls_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace pollwake {
namespace {

TEST(BlockOnAllocTest, ReadyPathAllocatesNothingAfterTheFirstCall) {
  block_on(ready(1));  // builds this thread's parker
  long before = tls_allocations;
  long sum = 0;
  for (int i = 0; i < 1000; ++i) sum += block_on(ready(i));
  EXPECT_EQ(tls_allocations - before, 0);
  EXPECT_EQ(sum, 999 * 1000 / 2);
}

TEST(BlockOnAllocTest, FirstCallOnAThreadAllocatesTheParkerOnce) {
  long first = -1, second = -1;
  std::thread t([&] {
    long a = tls_allocations;
    block_on(ready(1));
    first = tls_allocations - a;
    a = tls_allocations;
    block_on(ready(1));
    second = tls_allocations - a;
  });
  t.join();
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 0);
}

}  // namespace
}  // namespace pollwake
