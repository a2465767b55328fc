// examples/11_continuation_contexts.cc: on which thread does C# code go on
// after an `await`? The eager model (interop/csharp/) answers as C# does.
//
//   bash .ci/tour.sh 11        (or: bazel run //examples:11_continuation_contexts)
//
// The C# this models, run for real by tests/oracles/csharp/ (Mono), which
// checks that both print the same trace:
//
//   static async Task Step(Task<int> source, bool continueOnCapturedContext) {
//       Say("Step: before await ...");
//       int v = await source.ConfigureAwait(continueOnCapturedContext);
//       Say("Step: after await, got " + v + " ...");
//   }
//
// Each part calls Step once, from a thread with or without a
// SynchronizationContext, and completes its TaskCompletionSource from
// somewhere. The rules it shows (interop/csharp/synchronization_context.h):
//   A  a captured context gets the continuation through Post  -> "ui"
//   B  ConfigureAwait(false) captures nothing: the completing thread runs it
//   C  no context at all: the completing thread runs it, inside SetResult
//   D  RunContinuationsAsynchronously and no context: a thread-pool thread
//   E  completing on the captured context itself: inline, inside SetResult
//   F  awaiting a completed task: no suspension at all
// A Rust future has none of this: it is resumed by whoever polls it next
// (examples/10_eager_vs_lazy.cc).
//
// Threads are named by the program ("main", "ui", "worker"); the pool's
// threads are all "pool". Each part is ordered so the trace is deterministic:
// a thread prints only while the others wait for it (joins, Wait()).
// Each trace line is numbered; `// (n)` marks the statement that prints [n].

#include <cstdio>
#include <functional>
#include <string>
#include <thread>

#include "interop/csharp/synchronization_context.h"
#include "interop/csharp/task.h"
#include "interop/csharp/task_completion_source.h"
#include "interop/csharp/thread_name.h"

using pollwake::csharp::SetThreadName;
using pollwake::csharp::SingleThreadSynchronizationContext;
using pollwake::csharp::SynchronizationContext;
using pollwake::csharp::Task;
using pollwake::csharp::TaskCompletionSource;
using pollwake::csharp::TaskCreationOptions;
using pollwake::csharp::ThreadName;

namespace {

int g_step = 0;  // touched by one thread at a time (see the header)

void Say(const std::string& text) {
  std::printf("[%d] %s: %s\n", ++g_step, ThreadName().c_str(), text.c_str());
  std::fflush(stdout);
}

std::string ContextName() { return SynchronizationContext::Current() == nullptr ? "none" : "ui loop"; }

// [START step]
Task<> Step(Task<int> source, bool continueOnCapturedContext) {
  Say("Step: before await (context: " + ContextName() + ")");  // (2), (8), (15), (22), (28), (35)
  int v = co_await source.ConfigureAwait(continueOnCapturedContext);
  Say("Step: after await, got " + std::to_string(v) +  // (5), (11), (18), (25), (31), (36)
      " (context: " + ContextName() + ")");
}
// [END step]

// OnUiThread: runs `body` on a new thread named "ui" that has a
// SingleThreadSynchronizationContext, then pumps it until body's task is done.
void OnUiThread(const std::function<Task<>(SingleThreadSynchronizationContext&)>& body) {
  std::thread ui([&] {
    SetThreadName("ui");
    SingleThreadSynchronizationContext ctx;
    SynchronizationContext::SetSynchronizationContext(&ctx);
    Task<> t = body(ctx);
    t.OnCompleted([&ctx] { ctx.Complete(); }, /*continueOnCapturedContext=*/false);
    ctx.RunOnCurrentThread();
    Say("ui loop ended");  // (6), (13), (33), (38)
    SynchronizationContext::SetSynchronizationContext(nullptr);
  });
  ui.join();
}

template <class F>
std::thread StartWorker(F work) {
  return std::thread([work]() mutable {
    SetThreadName("worker");
    work();
  });
}

}  // namespace

int main() {
  SetThreadName("main");

  // [START part_a]
  Say("Part A: await on the ui loop; a worker completes the source");  // (1)
  OnUiThread([](SingleThreadSynchronizationContext&) {
    TaskCompletionSource<int> tcs;
    Task<> t = Step(tcs.Task(), true);
    Say("Step returned an incomplete Task; the ui loop pumps");  // (3)
    std::thread w = StartWorker([tcs]() mutable {
      Say("SetResult(1): the continuation is posted to the ui loop");  // (4)
      tcs.SetResult(1);
    });
    w.join();
    return t;
  });
  // [END part_a]

  // [START part_b]
  Say("Part B: the same with ConfigureAwait(false)");  // (7)
  OnUiThread([](SingleThreadSynchronizationContext&) {
    TaskCompletionSource<int> tcs;
    Task<> t = Step(tcs.Task(), false);
    Say("Step returned an incomplete Task");  // (9)
    std::thread w = StartWorker([tcs]() mutable {
      Say("SetResult(2): the continuation runs here, inline");  // (10)
      tcs.SetResult(2);
      Say("SetResult returned");  // (12)
    });
    w.join();
    return t;
  });
  // [END part_b]

  // [START part_c]
  Say("Part C: no SynchronizationContext; a worker completes the source");  // (14)
  {
    TaskCompletionSource<int> tcs;
    Task<> t = Step(tcs.Task(), true);
    Say("Step returned an incomplete Task");  // (16)
    std::thread w = StartWorker([tcs]() mutable {
      Say("SetResult(3): the continuation runs here, inline");  // (17)
      tcs.SetResult(3);
      Say("SetResult returned");  // (19)
    });
    w.join();
    t.Wait();
    Say("Step finished");  // (20)
  }
  // [END part_c]

  // [START part_d]
  Say("Part D: no context; RunContinuationsAsynchronously");  // (21)
  {
    TaskCompletionSource<int> tcs(TaskCreationOptions::RunContinuationsAsynchronously);
    Task<> t = Step(tcs.Task(), true);
    Say("Step returned an incomplete Task");  // (23)
    std::thread w = StartWorker([tcs]() mutable {
      Say("SetResult(4): the continuation goes to the thread pool");  // (24)
      tcs.SetResult(4);
    });
    t.Wait();
    w.join();
    Say("Step finished");  // (26)
  }
  // [END part_d]

  // [START part_e]
  Say("Part E: the ui loop itself completes the source");  // (27)
  OnUiThread([](SingleThreadSynchronizationContext& ctx) {
    TaskCompletionSource<int> tcs;
    Task<> t = Step(tcs.Task(), true);
    Say("Step returned; posting a callback that completes the source");  // (29)
    ctx.Post([tcs]() mutable {
      Say("callback: SetResult(5): already on the ui loop, so inline");  // (30)
      tcs.SetResult(5);
      Say("callback: SetResult returned");  // (32)
    });
    return t;
  });
  // [END part_e]

  Say("Part F: awaiting a completed task does not suspend");  // (34)
  OnUiThread([](SingleThreadSynchronizationContext&) {
    Task<> t = Step(Task<int>::FromResult(6), true);
    Say(std::string("Step returned a completed Task: ") +  // (37)
        (t.IsCompleted() ? "True" : "False"));
    return t;
  });
  return 0;
}
