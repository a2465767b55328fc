// interop/coro/frame_stats.h
//
// Counts coroutine frames: how many the compiler allocated and freed, and how
// big the last one was. Rust has no such item: an `async fn`'s future is a
// value whose size `std::mem::size_of_val` reports and which lives wherever
// its owner puts it (often inside a task's single allocation). A C++20
// coroutine frame is instead allocated by the compiler with operator new (it
// may elide that when it can prove the frame's lifetime, which it rarely can
// for a returned coroutine), and its size is known only to the compiler. The
// promise types in this directory and in interop/csharp/ route frame
// allocation through here, so examples and tests can print and check what a
// coroutine costs next to a hand-written state machine.
//
// Memory ordering: the counters are statistics read after the fact by the
// thread that made the frames (or after a join); relaxed is enough.
//
// Its promises, and the tests that check them, are written once in
// docs/guarantees.md ("The C# model and the bridge").
#ifndef POLLWAKE_INTEROP_CORO_FRAME_STATS_H_
#define POLLWAKE_INTEROP_CORO_FRAME_STATS_H_

#include <atomic>
#include <cstddef>
#include <new>

namespace pollwake::coro {

struct FrameStats {
  std::atomic<std::size_t> allocated{0};   // frames allocated so far
  std::atomic<std::size_t> freed{0};       // frames freed so far
  std::atomic<std::size_t> last_size{0};   // bytes of the latest frame
  std::size_t live() const noexcept {
    // ORDERING: relaxed; a snapshot for tests and traces, see the header.
    return allocated.load(std::memory_order_relaxed) - freed.load(std::memory_order_relaxed);
  }
};

// frame_stats: the process-wide counters.
inline FrameStats& frame_stats() noexcept {
  static FrameStats stats;
  return stats;
}

namespace detail {
// CountedFrame: a base for promise types; the compiler finds these operator
// new/delete through the promise and uses them for the frame.
struct CountedFrame {
  static void* operator new(std::size_t size) {
    void* p = ::operator new(size);
    // ORDERING: relaxed; statistics only (see the header).
    frame_stats().allocated.fetch_add(1, std::memory_order_relaxed);
    frame_stats().last_size.store(size, std::memory_order_relaxed);
    return p;
  }
  static void operator delete(void* p, std::size_t size) noexcept {
    // ORDERING: relaxed; statistics only (see the header).
    frame_stats().freed.fetch_add(1, std::memory_order_relaxed);
    (void)size;
    ::operator delete(p);  // unsized: clang 14 disables sized deallocation by default
  }
};
}  // namespace detail

}  // namespace pollwake::coro

#endif  // POLLWAKE_INTEROP_CORO_FRAME_STATS_H_
