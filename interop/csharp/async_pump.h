// interop/csharp/async_pump.h
//
// Models the small "AsyncPump" that C# samples use to give a console program
// a UI-thread-like loop (Stephen Toub, "Await, SynchronizationContext, and
// Console Apps"): run an async method with a SingleThreadSynchronizationContext
// set on the calling thread, pump its queue until the method's task
// completes, then return its result.
//
//   C#                                       pollwake::csharp
//   AsyncPump.Run(async () => { ... })       AsyncPump::Run([]() -> Task<> { ... })
//
// Every continuation of the method that captured the context runs on the
// calling thread, inside Run. An exception of the method is rethrown by Run.
//
// Its promises, and the tests that check them, are written once in
// docs/guarantees.md ("The C# model and the bridge").
#ifndef POLLWAKE_INTEROP_CSHARP_ASYNC_PUMP_H_
#define POLLWAKE_INTEROP_CSHARP_ASYNC_PUMP_H_

#include <utility>

#include "interop/csharp/synchronization_context.h"
#include "interop/csharp/task.h"

namespace pollwake::csharp {

class AsyncPump {
 public:
  // AsyncPump::Run: `f` returns a Task<T>; Run returns its value.
  template <class F>
  static auto Run(F&& f) {
    SingleThreadSynchronizationContext context;
    auto task = [&] {
      SynchronizationContextScope scope(&context);
      auto t = std::forward<F>(f)();  // eager: runs until its first incomplete await
      // Complete() only lets the loop end once the queue is empty, so it may
      // run on any thread (ConfigureAwait(false): no capture).
      t.OnCompleted([&context] { context.Complete(); }, false);
      context.RunOnCurrentThread();
      return t;
    }();
    return task.GetResult();
  }
};

}  // namespace pollwake::csharp

#endif  // POLLWAKE_INTEROP_CSHARP_ASYNC_PUMP_H_
