// tests/interop/pump_util.h: helpers for the C# model's tests.
//
// PumpUntil(context, task): sets `context` on the calling thread, pumps it
// until `task` completes, and returns false instead of hanging if that takes
// more than kDeadline (a lost continuation): a watchdog then ends the pump.
#ifndef POLLWAKE_TESTS_INTEROP_PUMP_UTIL_H_
#define POLLWAKE_TESTS_INTEROP_PUMP_UTIL_H_

#include <string>
#include <thread>
#include <utility>

#include "interop/csharp/synchronization_context.h"
#include "interop/csharp/task.h"
#include "interop/csharp/thread_name.h"
#include "tests/support/deadline.h"
#include "tests/support/watchdog.h"

namespace pollwake::csharp::testing {

using pollwake::testing::kDeadline;  // the one deadline (tests/support)

template <class T>
bool PumpUntil(SingleThreadSynchronizationContext& context, const Task<T>& task) {
  task.OnCompleted([&context] { context.Complete(); }, false);
  // A lost continuation: the watchdog ends the pump, and we report it.
  pollwake::testing::Watchdog dog("PumpUntil", kDeadline, [&context] { context.Complete(); });
  {
    SynchronizationContextScope scope(&context);
    context.RunOnCurrentThread();
  }
  dog.stop();
  return !dog.stalled();
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
