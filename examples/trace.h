// examples/trace.h: the helpers every example after 01 shares: a numbered
// trace, and a printing waker for one task. 01 builds the same waker by hand
// (its RawWakerVTable is its lesson); the later examples take it from here.
//
//   trace("main: poll #%d", n);      prints "[7] main: poll #2"
//   PrintingTask task("loop_await");
//   Waker waker = task.waker();      each vtable call prints a line:
//                                    "    waker: wake_by_ref (task loop_await)"

#ifndef POLLWAKE_EXAMPLES_TRACE_H_
#define POLLWAKE_EXAMPLES_TRACE_H_

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>

#include "poll/raw_waker.h"
#include "poll/waker.h"

namespace pollwake::examples {

// One step counter for the whole program. Only main's thread traces.
inline int g_trace_step = 0;

// trace: prints one numbered line, "[n] ...", printf-style when given
// arguments; a format with none is printed as it is (no % conversions).
template <class... Args>
inline void trace(const char* format, Args... args) {
  std::printf("[%d] ", ++g_trace_step);
  if constexpr (sizeof...(args) == 0) {
    std::fputs(format, stdout);  // a line without arguments is printed as it is
  } else {
    std::printf(format, args...);
  }
  std::printf("\n");
}

// PrintingTask: a task that is only a name and a `woken` flag. Its waker
// prints each vtable call and raises the flag on wake / wake_by_ref. The flag
// is guarded by a mutex, so the waker may be called from another thread (08's
// timer thread), and main can wait for it.
class PrintingTask {
 public:
  explicit PrintingTask(const char* name) : name_(name) {}
  // Every waker carries `this`: the task must not move, and must outlive them.
  PrintingTask(const PrintingTask&) = delete;
  PrintingTask& operator=(const PrintingTask&) = delete;

  const char* name() const { return name_; }

  // A new waker for this task (Rust: Waker::from_raw(RawWaker::new(..))).
  Waker waker() { return Waker::from_raw(RawWaker{this, &kVTable}); }

  // Returns whether the waker was woken since the last take, and clears it.
  bool take_woken() {
    std::lock_guard lock(mu_);
    bool was = woken_;
    woken_ = false;
    return was;
  }

  // Waits until woken (clearing the flag), or `limit` passes; true if woken.
  bool wait_woken(std::chrono::seconds limit) {
    std::unique_lock lock(mu_);
    bool ok = cv_.wait_for(lock, limit, [&] { return woken_; });
    woken_ = false;
    return ok;
  }

 private:
  static PrintingTask& of(const void* data) {
    // SAFETY: every RawWaker of kVTable carries the `this` of a PrintingTask
    // (see waker()), a non-const object, so casting the const away restores
    // the pointer's original type.
    return *static_cast<PrintingTask*>(const_cast<void*>(data));
  }

  void set_woken() {
    {
      std::lock_guard lock(mu_);
      woken_ = true;
    }
    cv_.notify_one();
  }

  static RawWaker clone(const void* data) {
    std::printf("    waker: clone (task %s)\n", of(data).name_);
    return RawWaker{data, &kVTable};
  }
  // The printf comes before set_woken, so main (waiting for the flag) prints
  // only after the waker has finished speaking.
  static void wake(const void* data) {
    std::printf("    waker: wake, consumes the waker (task %s)\n", of(data).name_);
    of(data).set_woken();
  }
  static void wake_by_ref(const void* data) {
    std::printf("    waker: wake_by_ref (task %s)\n", of(data).name_);
    of(data).set_woken();
  }
  static void drop(const void* data) {
    std::printf("    waker: drop (task %s)\n", of(data).name_);
  }

  static constexpr RawWakerVTable kVTable = {&clone, &wake, &wake_by_ref, &drop};

  const char* name_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;  // written under mu_
};

}  // namespace pollwake::examples

#endif  // POLLWAKE_EXAMPLES_TRACE_H_
