// executor/detail/block_cache.h
//
// TaskBlockCache: the free lists of task blocks behind a LocalPool. Rust's
// futures-rs allocates every task with Box (the global allocator); pollwake
// recycles blocks per pool, as Boost.Asio recycles handler memory, because a
// round of short tasks otherwise pays a malloc and a free per task (see
// docs/05_benchmarks.md). Not a public API: LocalPool is its only user.
#ifndef POLLWAKE_EXECUTOR_DETAIL_BLOCK_CACHE_H_
#define POLLWAKE_EXECUTOR_DETAIL_BLOCK_CACHE_H_

#include <cstddef>
#include <new>

#include "absl/base/config.h"

#if defined(ABSL_HAVE_ADDRESS_SANITIZER)  // g++ and clang alike
#include <sanitizer/asan_interface.h>
#define POLLWAKE_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define POLLWAKE_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POLLWAKE_POISON(p, n) ((void)(p), (void)(n))
#define POLLWAKE_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace pollwake::detail {

// TaskBlockCache: a LocalPool's free lists of task blocks, one per size class
// (16-byte steps up to 512 bytes), as Boost.Asio recycles handler memory.
// Why: a round of N short tasks otherwise costs N mallocs and N frees, and
// glibc's tcache holds only 7 blocks per size, so most frees took the slow
// _int_free path (docs/05_benchmarks.md). With the cache, a task spawned
// after another finished reuses its block without calling malloc.
// The thread rule: a block goes onto the list only when the task's last
// reference is dropped on the pool's own thread while the pool is running
// (local_task_release finds the pool in its thread-local "running" pointer,
// which implies the pool is alive); a task freed anywhere else (a waker
// dropped on another thread, or after the pool is gone) goes back to
// operator delete. So the lists are only ever touched by the pool's thread
// and need no lock. Bounded: at most kMaxBytesPerClass per class (the excess
// is deleted); the pool deletes what is cached when it is destroyed. Under
// ASan the cached blocks are poisoned, so a use after free still reports
// until the block is reused.
class TaskBlockCache {
 public:
  static constexpr std::size_t kGranule = 16;
  static constexpr std::size_t kClasses = 32;  // blocks of 16 .. 512 bytes
  static constexpr std::size_t kMaxBytesPerClass = 128 * 1024;

  TaskBlockCache() = default;
  TaskBlockCache(const TaskBlockCache&) = delete;
  TaskBlockCache& operator=(const TaskBlockCache&) = delete;
  ~TaskBlockCache() {
    for (std::size_t c = 0; c < kClasses; ++c) {
      while (Block* b = heads_[c]) {
        POLLWAKE_UNPOISON(b, block_bytes(c));
        heads_[c] = b->next;
        ::operator delete(b);
      }
    }
  }

  // Blocks that are too big or over-aligned bypass the cache (plain new).
  template <class T>
  static constexpr bool kCacheable =
      sizeof(T) <= kGranule * kClasses && alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__;

  // Memory for a T: from the free list of its class, else operator new.
  template <class T>
  void* allocate() {
    if constexpr (kCacheable<T>) {
      constexpr std::size_t c = class_of(sizeof(T));
      if (Block* b = heads_[c]) {
        POLLWAKE_UNPOISON(b, block_bytes(c));
        heads_[c] = b->next;
        --counts_[c];
        return b;
      }
      return ::operator new(block_bytes(c));
    } else {
      return ::operator new(sizeof(T), std::align_val_t(alignof(T)));
    }
  }

  // Frees memory from allocate<T>() (its T already destroyed): onto the
  // free list when `cache` is given and has room, else operator delete.
  template <class T>
  static void deallocate(void* p, TaskBlockCache* cache) noexcept {
    if constexpr (kCacheable<T>) {
      constexpr std::size_t c = class_of(sizeof(T));
      if (cache != nullptr && cache->counts_[c] < kMaxBytesPerClass / block_bytes(c)) {
        Block* b = ::new (p) Block{cache->heads_[c]};
        cache->heads_[c] = b;
        ++cache->counts_[c];
        POLLWAKE_POISON(b, block_bytes(c));
        return;
      }
      ::operator delete(p);
    } else {
      ::operator delete(p, std::align_val_t(alignof(T)));
    }
  }

 private:
  struct Block {
    Block* next;
  };
  static constexpr std::size_t class_of(std::size_t size) { return (size - 1) / kGranule; }
  static constexpr std::size_t block_bytes(std::size_t c) { return (c + 1) * kGranule; }

  Block* heads_[kClasses] = {};
  std::size_t counts_[kClasses] = {};
};

}  // namespace pollwake::detail

#endif  // POLLWAKE_EXECUTOR_DETAIL_BLOCK_CACHE_H_
