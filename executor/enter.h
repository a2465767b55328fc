// executor/enter.h
//
// Models futures-rs's `futures::executor::enter()` and its guard `Enter`: a
// per-thread flag that says "an executor is running on this thread right now".
// Every pollwake executor takes the guard while it drives futures (block_on
// for its whole call, LocalPool::run* for its whole call, a ThreadPool worker
// around each task poll), so that a future which tries to block the thread
// from inside (block_on in a task, LocalPool::run in a task) is refused with a
// clear error instead of deadlocking or re-entering the executor.
//
//   Rust (futures-executor)              pollwake
//   enter() -> Result<Enter, EnterError> enter() -> Enter, throws EnterError
//   drop(enter_guard)                    ~Enter()
//   (no public query)                    is_entered()
//
// How pollwake differs, and why: Rust returns `Err(EnterError)` and its
// executors `.expect()` it, panicking with "cannot execute `LocalPool`
// executor from within another executor". pollwake throws the exception
// directly (C++'s panic), and says in the message why it is refused.
// `is_entered()` is extra: tests and the ThreadPool use it to check the flag.
//
// The flag is thread_local, so guards on different threads never interact.
// An Enter guard can be neither copied nor moved: it must be destroyed on the
// thread that created it, in the scope that created it. Return-by-value still
// works (`Enter guard = enter();` is guaranteed copy elision).
#ifndef POLLWAKE_EXECUTOR_ENTER_H_
#define POLLWAKE_EXECUTOR_ENTER_H_

#include <stdexcept>

namespace pollwake {

// EnterError: thrown by enter() when this thread is already inside an
// executor. Rust: `futures::executor::EnterError`.
class EnterError : public std::logic_error {
 public:
  EnterError();
};

namespace detail {
// One flag per thread; only the owning thread reads or writes it, so a plain
// bool suffices (no atomics, no ordering). Defined here, inline and constinit
// (no dynamic initialisation, so no TLS wrapper call), so that enter() and
// ~Enter compile to a load and a store in the caller: block_on of a ready
// future is a few dozen instructions and two out-of-line calls were a
// measurable share of it (docs/05_benchmarks.md).
inline constinit thread_local bool tls_entered = false;
// Throws EnterError; out of line, as it is the cold path.
[[noreturn]] void throw_enter_error();
}  // namespace detail

// Enter: the RAII guard; while it lives, is_entered() is true on this thread.
class Enter {
 public:
  Enter(const Enter&) = delete;
  Enter& operator=(const Enter&) = delete;
  Enter(Enter&&) = delete;
  Enter& operator=(Enter&&) = delete;
  // Enter::~Enter clears the flag (also when unwinding from an exception).
  ~Enter() { detail::tls_entered = false; }

 private:
  friend Enter enter();
  Enter() noexcept = default;
};

// enter(): marks this thread as running an executor and returns the guard.
// Throws EnterError, and changes nothing, if the thread is already marked.
inline Enter enter() {
  if (detail::tls_entered) [[unlikely]] detail::throw_enter_error();
  detail::tls_entered = true;
  return Enter();
}

// is_entered(): true while an Enter guard lives on the calling thread.
inline bool is_entered() noexcept { return detail::tls_entered; }

}  // namespace pollwake

#endif  // POLLWAKE_EXECUTOR_ENTER_H_
