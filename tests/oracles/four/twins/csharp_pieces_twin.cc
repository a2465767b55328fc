// tests/oracles/four/twins/csharp_pieces_twin.cc: the C++ twin of
// csharp/pieces.cs, on interop/csharp/ (cancellation.h,
// aggregate_exception.h, when.h). It prints the same trace as Mono (compared
// with csharp/pieces.expected). C# prints booleans as True/False.
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "interop/csharp/aggregate_exception.h"
#include "interop/csharp/cancellation.h"
#include "interop/csharp/task.h"
#include "interop/csharp/task_completion_source.h"
#include "interop/csharp/when.h"

namespace {

using namespace pollwake::csharp;  // NOLINT: the twin reads like the C# program

void P(const std::string& s) { std::printf("%s\n", s.c_str()); }
std::string B(bool b) { return b ? "True" : "False"; }
std::exception_ptr Ex(const std::string& m) { return std::make_exception_ptr(std::runtime_error(m)); }

}  // namespace

int main() {
  P("== callbacks run newest first; throwing ones are aggregated after all ran");
  CancellationTokenSource cts;
  cts.Token().Register([] { P("callback 1 throws"); throw std::runtime_error("one"); });
  cts.Token().Register([] { P("callback 2"); });
  cts.Token().Register([] { P("callback 3 throws"); throw std::runtime_error("three"); });
  try {
    cts.Cancel();
  } catch (const AggregateException& e) {
    P("Cancel threw AggregateException: " + std::to_string(e.InnerExceptions().size()) + " inner: " +
      MessageOf(e.InnerExceptions()[0]) + ", " + MessageOf(e.InnerExceptions()[1]));
  }
  cts.Cancel();
  P("a second Cancel ran nothing");

  P("== Cancel(true) stops at the first exception");
  CancellationTokenSource c2;
  c2.Token().Register([] { P("callback a"); });
  c2.Token().Register([] { P("callback b throws"); throw std::runtime_error("b"); });
  try {
    c2.Cancel(true);
  } catch (const std::exception& e) {
    P(std::string("Cancel(true) threw ") + e.what());
  }

  P("== Register on a canceled token runs at once; Dispose removes");
  bool ran = false;
  c2.Token().Register([&] { ran = true; });
  P("ran inside Register: " + B(ran));
  CancellationTokenSource c3;
  CancellationTokenRegistration reg = c3.Token().Register([] { P("disposed callback ran"); });
  c3.Token().Register([] { P("kept callback ran"); });
  reg.Dispose();
  c3.Cancel();

  P("== WhenAll waits for every task, values in argument order");
  TaskCompletionSource<std::string> a, b, c;
  Task<std::vector<std::string>> all = WhenAll(a.Task(), b.Task(), c.Task());
  c.SetException(Ex("C failed"));
  P("after C failed, completed: " + B(all.IsCompleted()));
  a.SetException(Ex("A failed"));
  b.SetResult("B");
  try {
    (void)all.GetResult();  // C#'s all.Wait()
  } catch (const AggregateException& e) {
    P("Wait threw AggregateException: " + std::to_string(e.InnerExceptions().size()) + " inner: " +
      MessageOf(e.InnerExceptions()[0]) + ", " + MessageOf(e.InnerExceptions()[1]));
  }
  TaskCompletionSource<int> d, e2;
  Task<std::vector<int>> all2 = WhenAll(d.Task(), e2.Task());
  e2.SetResult(2);
  d.SetResult(1);
  std::vector<int> values = all2.GetResult();
  P("values: " + std::to_string(values[0]) + " " + std::to_string(values[1]));

  P("== canceled only: canceled; a fault wins over a cancellation");
  TaskCompletionSource<int> f, g;
  Task<std::vector<int>> all3 = WhenAll(f.Task(), g.Task());
  SetCanceled(f);
  g.SetResult(1);
  P("canceled: " + B(IsCanceled(all3)));
  TaskCompletionSource<int> h, i;
  Task<std::vector<int>> all4 = WhenAll(h.Task(), i.Task());
  SetCanceled(h);
  i.SetException(Ex("i"));
  // C#'s IsFaulted is false for a canceled task; here a canceled task is
  // faulted with OperationCanceledException, so "faulted" means "faulted and
  // not canceled" (cancellation.h).
  P("canceled: " + B(IsCanceled(all4)) + ", faulted: " + B(all4.IsFaulted() && !IsCanceled(all4)));

  P("== WhenAny completes with the first, and does not fault");
  TaskCompletionSource<int> j, k;
  Task<Task<int>> any = WhenAny(j.Task(), k.Task());
  k.SetException(Ex("k"));
  j.SetResult(1);
  P("any faulted: " + B(any.IsFaulted()) + ", winner faulted: " + B(any.GetResult().IsFaulted()));
  return 0;
}
