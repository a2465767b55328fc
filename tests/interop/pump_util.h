// tests/interop/pump_util.h: helpers for the C# model's tests.
//
// PumpUntil(context, task): sets `context` on the calling thread, pumps it
// until `task` completes, and returns false instead of hanging if that takes
// more than kDeadline (a lost continuation): a watchdog then ends the pump.
#ifndef POLLWAKE_TESTS_INTEROP_PUMP_UTIL_H_
#define POLLWAKE_TESTS_INTEROP_PUMP_UTIL_H_

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "interop/csharp/synchronization_context.h"
#include "interop/csharp/task.h"
#include "interop/csharp/thread_name.h"

namespace pollwake::csharp::testing {

inline constexpr std::chrono::seconds kDeadline{20};

template <class T>
bool PumpUntil(SingleThreadSynchronizationContext& context, const Task<T>& task) {
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;   // written under mu
  bool timed_out = false;  // written under mu
  task.OnCompleted([&context] { context.Complete(); }, false);
  std::thread watchdog([&] {
    std::unique_lock<std::mutex> lock(mu);
    if (!cv.wait_for(lock, kDeadline, [&] { return finished; })) {
      timed_out = true;
      context.Complete();
    }
  });
  {
    SynchronizationContextScope scope(&context);
    context.RunOnCurrentThread();
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    finished = true;
    cv.notify_all();
  }
  watchdog.join();
  return !timed_out;
}

// OnThread: runs `f` on a new thread named `name` and joins it.
template <class F>
void OnThread(const std::string& name, F&& f) {
  std::thread t([&] {
    SetThreadName(name);
    f();
  });
  t.join();
}

}  // namespace pollwake::csharp::testing

#endif  // POLLWAKE_TESTS_INTEROP_PUMP_UTIL_H_
