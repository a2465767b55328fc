// tests/oracles/four/csharp/four.cs: the five programs in C# (Mono). Each
// section prints a trace; four.expected holds it. The C++ twin is
// tests/oracles/four/twins/csharp_twin.cc. A console program has no
// SynchronizationContext, so every continuation runs inline on the thread
// that completes what it awaits.
using System;
using System.Threading;
using System.Threading.Tasks;

static class Four {
  static void P(string s) { Console.WriteLine(s); }

  // 1. Order of effects around a call that is not awaited at once.
// [START f]
  static async Task<int> F() {
    P("f: start");
    await Task.CompletedTask;
    P("f: after await");
    return 1;
  }
// [END f]

  static void One() {
    P("== 1 unawaited call");
    P("main: call f");
    Task<int> t = F();
    P("main: f returned");
    P("main: await");
    int v = t.GetAwaiter().GetResult();
    P("main: got " + v);
  }

  // 2. Fan out three waits and join them; the events fire in the order B, C, A.
  static async Task<string> Op(string name, Task ev) {
    P(name + ": start");
    await ev;
    P(name + ": done");
    return name;
  }

  static void Two() {
    P("== 2 fan out and join");
    var ea = new TaskCompletionSource<bool>();
    var eb = new TaskCompletionSource<bool>();
    var ec = new TaskCompletionSource<bool>();
    P("main: start ops");
    Task<string> a = Op("A", ea.Task), b = Op("B", eb.Task), c = Op("C", ec.Task);
    Task<string[]> all = Task.WhenAll(a, b, c);
    P("main: fire B");
    eb.SetResult(true);
    P("main: fire C");
    ec.SetResult(true);
    P("main: fire A");
    ea.SetResult(true);
    string[] r = all.Result;
    P("main: joined " + string.Join(" ", r));
  }

  // 3. Cancel a pending operation with a CancellationToken.
// [START cancel]
  static async Task<int> Cancellable(CancellationToken token) {
    P("op: start");
    var ev = new TaskCompletionSource<bool>();
    CancellationTokenRegistration reg = token.Register(() => {
      P("op: registration callback");
      ev.TrySetCanceled();
    });
    try {
      await ev.Task;
      P("op: after await");
      return 1;
    } catch (OperationCanceledException) {
      P("op: caught OperationCanceledException");
      return -1;
    } finally {
      P("op: finally (cleanup)");
      reg.Dispose();
    }
  }
// [END cancel]

  static void Three() {
    P("== 3 cancel");
    var cts = new CancellationTokenSource();
    P("main: start op");
    Task<int> t = Cancellable(cts.Token);
    P("main: cancel");
    cts.Cancel();
    P("main: cancel returned");
    P("main: got " + t.Result);
    try {
      cts.Token.ThrowIfCancellationRequested();
    } catch (OperationCanceledException) {
      P("main: ThrowIfCancellationRequested threw");
    }
  }

  // 4. One of three concurrent operations throws; B's event fires first,
  // A's and C's later, from a thread-pool thread, while main waits.
  static async Task<string> MayFail(string name, Task ev, bool fail) {
    P(name + ": start");
    await ev;
    if (fail) {
      P(name + ": throws");
      throw new InvalidOperationException(name + " failed");
    }
    P(name + ": done");
    return name;
  }

  static void Four_() {
    P("== 4 one of three fails");
    var ea = new TaskCompletionSource<bool>();
    var eb = new TaskCompletionSource<bool>();
    var ec = new TaskCompletionSource<bool>();
    P("main: start ops");
    Task<string> a = MayFail("A", ea.Task, false), b = MayFail("B", eb.Task, true), c = MayFail("C", ec.Task, false);
    Task<string[]> all = Task.WhenAll(a, b, c);
    P("main: fire B");
    eb.SetResult(true);
    P("main: wait for the join; later: fire A, fire C");
    ThreadPool.QueueUserWorkItem(_ => {
      P("later: fire A");
      ea.SetResult(true);
      P("later: fire C");
      ec.SetResult(true);
    });
    try {
      all.Wait();
      P("main: all succeeded");
    } catch (AggregateException e) {
      P("main: caught AggregateException, " + e.InnerExceptions.Count + " inner: " + e.InnerExceptions[0].Message);
    }
  }

  // 5. CPU-bound work inside an async function: who is blocked.
  static ulong Spin() {
    ulong x = 1;
    for (ulong i = 0; i < 2000000; ++i) x = unchecked(x * 6364136223846793005UL + i);
    return x;
  }

  static async Task Busy() {
    P("busy: start");
    if (Spin() == 0) P("busy: (unlikely)");
    P("busy: end");
    await Task.CompletedTask;
  }

  static void Five() {
    P("== 5 CPU-bound work");
    P("main: call busy");
    Task t = Busy();
    P("main: busy returned");
    t.Wait();
  }

  static void Main() {
    One();
    Two();
    Three();
    Four_();
    Five();
  }
}
