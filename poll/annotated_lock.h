// poll/annotated_lock.h
//
// absl::MutexLock and absl::ReaderMutexLock (Rust: std::sync::Mutex's
// guard), plus what ThreadSanitizer needs to see them. pollwake takes
// Abseil from Debian's shared libraries, which are not built with
// -fsanitize=thread, so TSan cannot see absl::Mutex's happens-before edges
// and reports every access to guarded data as a race. These locks add the
// edges by hand: __tsan_acquire on the mutex after locking, __tsan_release
// before unlocking (and around Await, which unlocks and relocks inside).
// Without TSan they are exactly absl's locks.
//
// It lives in poll/ (a target of its own, :annotated_lock, the only one of
// poll/ that depends on Abseil) so that every layer may guard state with
// absl::Mutex: the executors' join slots (executor/detail/join_slot.h) and
// the C ABI bridge (interop/bridge/) use it. The lock-free parts (RawWaker,
// Arc, the run queues' atomics) do not: there the atomics are the lesson. A reader lock must not order
// readers among themselves (that would hide a race between two readers
// that write, e.g. two threads sending on one channel under the reader
// lock): a reader acquires the writers' address and releases to a second
// address that only writers acquire.
#ifndef POLLWAKE_POLL_ANNOTATED_LOCK_H_
#define POLLWAKE_POLL_ANNOTATED_LOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#define POLLWAKE_TSAN_ACQUIRE(p) __tsan_acquire(p)
#define POLLWAKE_TSAN_RELEASE(p) __tsan_release(p)
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#include <sanitizer/tsan_interface.h>
#define POLLWAKE_TSAN_ACQUIRE(p) __tsan_acquire(p)
#define POLLWAKE_TSAN_RELEASE(p) __tsan_release(p)
#endif
#endif
#ifndef POLLWAKE_TSAN_ACQUIRE
#define POLLWAKE_TSAN_ACQUIRE(p) ((void)(p))
#define POLLWAKE_TSAN_RELEASE(p) ((void)(p))
#endif

namespace pollwake {

// Where readers release and writers (only) acquire: one byte into the
// mutex, an address no other annotation uses.
inline void* ReaderReleaseAddr(absl::Mutex* mu) {
  // SAFETY: only an address for TSan's bookkeeping; never dereferenced.
  return reinterpret_cast<char*>(mu) + 1;
}

class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(absl::Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_->Lock();
    POLLWAKE_TSAN_ACQUIRE(mu_);
    POLLWAKE_TSAN_ACQUIRE(ReaderReleaseAddr(mu_));
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;
  ~MutexLock() ABSL_UNLOCK_FUNCTION() {
    POLLWAKE_TSAN_RELEASE(mu_);
    mu_->Unlock();
  }

 private:
  absl::Mutex* const mu_;
};

class ABSL_SCOPED_LOCKABLE ReaderMutexLock {
 public:
  explicit ReaderMutexLock(absl::Mutex* mu) ABSL_SHARED_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_->ReaderLock();
    POLLWAKE_TSAN_ACQUIRE(mu_);
  }
  ReaderMutexLock(const ReaderMutexLock&) = delete;
  ReaderMutexLock& operator=(const ReaderMutexLock&) = delete;
  ~ReaderMutexLock() ABSL_UNLOCK_FUNCTION() {
    POLLWAKE_TSAN_RELEASE(ReaderReleaseAddr(mu_));
    mu_->ReaderUnlock();
  }

 private:
  absl::Mutex* const mu_;
};

// mu->Await(cond), annotated: Await unlocks while it waits.
inline void AnnotatedAwait(absl::Mutex* mu, const absl::Condition& cond)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
  POLLWAKE_TSAN_RELEASE(mu);
  mu->Await(cond);
  POLLWAKE_TSAN_ACQUIRE(mu);
  POLLWAKE_TSAN_ACQUIRE(ReaderReleaseAddr(mu));
}

}  // namespace pollwake

#endif  // POLLWAKE_POLL_ANNOTATED_LOCK_H_
