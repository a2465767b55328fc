// tests/oracles/four/twins/csharp_twin.cc: the C++ twin of csharp/four.cs,
// on pollwake's eager C# model (interop/csharp/: Task, TaskCompletionSource,
// CancellationTokenSource, WhenAll, AggregateException, ThreadPool). It
// prints the same trace as Mono (compared with csharp/four.expected, no
// normalization). As in the console program, no SynchronizationContext is
// set, so continuations run inline on the completing thread.
//
// C++ has no `finally`; Finally below prints from its destructor, which runs
// when the body's scope ends, before the task completes, as C#'s finally
// block runs before the async method's task completes.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "interop/csharp/aggregate_exception.h"
#include "interop/csharp/cancellation.h"
#include "interop/csharp/task.h"
#include "interop/csharp/task_completion_source.h"
#include "interop/csharp/thread_pool.h"
#include "interop/csharp/when.h"

namespace {

using namespace pollwake::csharp;  // NOLINT: the twin reads like the C# program

void P(const std::string& s) {
  std::printf("%s\n", s.c_str());
  std::fflush(stdout);  // lines come from two threads in part 4
}

struct Finally {
  std::string text;
  ~Finally() { P(text); }
};

// 1. Order of effects around a call that is not awaited at once.
Task<int> F() {
  P("f: start");
  co_await Task<>::CompletedTask();
  P("f: after await");
  co_return 1;
}

void One() {
  P("== 1 unawaited call");
  P("main: call f");
  Task<int> t = F();
  P("main: f returned");
  P("main: await");
  int v = t.GetResult();
  P("main: got " + std::to_string(v));
}

// 2. Fan out three waits and join them; the events fire in the order B, C, A.
Task<std::string> Op(std::string name, Task<> ev) {
  P(name + ": start");
  co_await ev;
  P(name + ": done");
  co_return name;
}

void Two() {
  P("== 2 fan out and join");
  TaskCompletionSource<> ea, eb, ec;
  P("main: start ops");
  Task<std::string> a = Op("A", ea.Task()), b = Op("B", eb.Task()), c = Op("C", ec.Task());
  Task<std::vector<std::string>> all = WhenAll(a, b, c);
  P("main: fire B");
  eb.SetResult();
  P("main: fire C");
  ec.SetResult();
  P("main: fire A");
  ea.SetResult();
  std::vector<std::string> r = all.GetResult();
  P("main: joined " + r[0] + " " + r[1] + " " + r[2]);
}

// 3. Cancel a pending operation with a CancellationToken.
Task<int> Cancellable(CancellationToken token) {
  P("op: start");
  TaskCompletionSource<> ev;
  CancellationTokenRegistration reg = token.Register([ev]() mutable {
    P("op: registration callback");
    TrySetCanceled(ev);
  });
  int result = 0;
  {
    Finally cleanup{"op: finally (cleanup)"};
    try {
      co_await ev.Task();
      P("op: after await");
      result = 1;
    } catch (const OperationCanceledException&) {
      P("op: caught OperationCanceledException");
      result = -1;
    }
  }
  reg.Dispose();
  co_return result;
}

void Three() {
  P("== 3 cancel");
  CancellationTokenSource cts;
  P("main: start op");
  Task<int> t = Cancellable(cts.Token());
  P("main: cancel");
  cts.Cancel();
  P("main: cancel returned");
  P("main: got " + std::to_string(t.GetResult()));
  try {
    cts.Token().ThrowIfCancellationRequested();
  } catch (const OperationCanceledException&) {
    P("main: ThrowIfCancellationRequested threw");
  }
}

// 4. One of three concurrent operations throws; B's event fires first,
// A's and C's later, from a thread-pool thread, while main waits.
Task<std::string> MayFail(std::string name, Task<> ev, bool fail) {
  P(name + ": start");
  co_await ev;
  if (fail) {
    P(name + ": throws");
    throw InvalidOperationException(name + " failed");
  }
  P(name + ": done");
  co_return name;
}

void Four() {
  P("== 4 one of three fails");
  TaskCompletionSource<> ea, eb, ec;
  P("main: start ops");
  Task<std::string> a = MayFail("A", ea.Task(), false), b = MayFail("B", eb.Task(), true),
                    c = MayFail("C", ec.Task(), false);
  Task<std::vector<std::string>> all = WhenAll(a, b, c);
  P("main: fire B");
  eb.SetResult();
  P("main: wait for the join; later: fire A, fire C");
  ThreadPool::QueueUserWorkItem([ea, ec]() mutable {
    P("later: fire A");
    ea.SetResult();
    P("later: fire C");
    ec.SetResult();
  });
  try {
    (void)all.GetResult();  // C#'s all.Wait(): throws the AggregateException
    P("main: all succeeded");
  } catch (const AggregateException& e) {
    P("main: caught AggregateException, " + std::to_string(e.InnerExceptions().size()) +
      " inner: " + MessageOf(e.InnerExceptions()[0]));
  }
}

// 5. CPU-bound work inside an async function: who is blocked.
std::uint64_t Spin() {
  std::uint64_t x = 1;
  for (std::uint64_t i = 0; i < 2000000; ++i) x = x * 6364136223846793005ULL + i;
  return x;
}

Task<> Busy() {
  P("busy: start");
  if (Spin() == 0) P("busy: (unlikely)");
  P("busy: end");
  co_await Task<>::CompletedTask();
}

void Five() {
  P("== 5 CPU-bound work");
  P("main: call busy");
  Task<> t = Busy();
  P("main: busy returned");
  t.Wait();
}

}  // namespace

int main() {
  One();
  Two();
  Three();
  Four();
  Five();
  return 0;
}
