// bench/alloc_count.h: counts heap allocations, for the allocs_per_op figure.
//
// Models the counting global allocator of the Rust peer (a `GlobalAlloc`
// that forwards to `System` and bumps a counter): here the replaceable global
// `operator new` is replaced (bench/alloc_count.cc) by one that forwards to
// malloc and, while counting is on, bumps a relaxed atomic counter. What it
// counts: every `operator new` call (pollwake's task blocks, Asio's handler
// memory, coroutine frames, std containers); not direct malloc calls (none of
// the code under test makes one).
//
// Why a switch rather than an always-on counter: a timed run must not pay
// for counting that its Rust peer does not pay either; while counting is off
// each allocation costs one relaxed load and a predictable branch, as on the
// Rust side. Benchmarks count in a separate, untimed run (RunBatches in
// bench_util.h).
#ifndef POLLWAKE_BENCH_ALLOC_COUNT_H_
#define POLLWAKE_BENCH_ALLOC_COUNT_H_

#include <atomic>
#include <cstdint>

namespace pollwake::bench {

extern std::atomic<bool> g_count_allocs;
extern std::atomic<std::uint64_t> g_allocs;

// CountAllocs: counting on, from zero, for this object's lifetime; count()
// is the number of allocations so far (any thread).
class CountAllocs {
 public:
  CountAllocs() {
    // ORDERING: relaxed; the count is read on this thread after the counted
    // work has finished, and threads that took part have synchronized with
    // this one (joined, or counted a latch down with acq_rel) before that.
    g_allocs.store(0, std::memory_order_relaxed);
    g_count_allocs.store(true, std::memory_order_relaxed);
  }
  CountAllocs(const CountAllocs&) = delete;
  CountAllocs& operator=(const CountAllocs&) = delete;
  ~CountAllocs() { g_count_allocs.store(false, std::memory_order_relaxed); }  // ORDERING: as above
  std::uint64_t count() const { return g_allocs.load(std::memory_order_relaxed); }  // ORDERING: as above
};

}  // namespace pollwake::bench

#endif  // POLLWAKE_BENCH_ALLOC_COUNT_H_
