// tests/oracles/four/csharp/pieces.cs: the rules of C#'s cancellation,
// AggregateException, WhenAll and WhenAny that interop/csharp/ models
// (cancellation.h, aggregate_exception.h, when.h), printed by real C#;
// pieces.expected holds Mono's output. The C++ twin is
// twins/csharp_pieces_twin.cc.
using System;
using System.Threading;
using System.Threading.Tasks;

static class Pieces {
  static void P(string s) { Console.WriteLine(s); }

  static void Main() {
    P("== callbacks run newest first; throwing ones are aggregated after all ran");
    var cts = new CancellationTokenSource();
    cts.Token.Register(() => { P("callback 1 throws"); throw new Exception("one"); });
    cts.Token.Register(() => P("callback 2"));
    cts.Token.Register(() => { P("callback 3 throws"); throw new Exception("three"); });
    try {
      cts.Cancel();
    } catch (AggregateException e) {
      P("Cancel threw AggregateException: " + e.InnerExceptions.Count + " inner: " +
        e.InnerExceptions[0].Message + ", " + e.InnerExceptions[1].Message);
    }
    cts.Cancel();
    P("a second Cancel ran nothing");

    P("== Cancel(true) stops at the first exception");
    var c2 = new CancellationTokenSource();
    c2.Token.Register(() => P("callback a"));
    c2.Token.Register(() => { P("callback b throws"); throw new Exception("b"); });
    try {
      c2.Cancel(true);
    } catch (Exception e) {
      P("Cancel(true) threw " + e.Message);
    }

    P("== Register on a canceled token runs at once; Dispose removes");
    bool ran = false;
    c2.Token.Register(() => ran = true);
    P("ran inside Register: " + ran);
    var c3 = new CancellationTokenSource();
    var reg = c3.Token.Register(() => P("disposed callback ran"));
    c3.Token.Register(() => P("kept callback ran"));
    reg.Dispose();
    c3.Cancel();

    P("== WhenAll waits for every task, values in argument order");
    var a = new TaskCompletionSource<string>();
    var b = new TaskCompletionSource<string>();
    var c = new TaskCompletionSource<string>();
    Task<string[]> all = Task.WhenAll(a.Task, b.Task, c.Task);
    c.SetException(new Exception("C failed"));
    P("after C failed, completed: " + all.IsCompleted);
    a.SetException(new Exception("A failed"));
    b.SetResult("B");
    try {
      all.Wait();
    } catch (AggregateException e) {
      P("Wait threw AggregateException: " + e.InnerExceptions.Count + " inner: " +
        e.InnerExceptions[0].Message + ", " + e.InnerExceptions[1].Message);
    }
    var d = new TaskCompletionSource<int>();
    var e2 = new TaskCompletionSource<int>();
    Task<int[]> all2 = Task.WhenAll(d.Task, e2.Task);
    e2.SetResult(2);
    d.SetResult(1);
    P("values: " + string.Join(" ", all2.Result));

    P("== canceled only: canceled; a fault wins over a cancellation");
    var f = new TaskCompletionSource<int>();
    var g = new TaskCompletionSource<int>();
    Task<int[]> all3 = Task.WhenAll(f.Task, g.Task);
    f.SetCanceled();
    g.SetResult(1);
    P("canceled: " + all3.IsCanceled);
    var h = new TaskCompletionSource<int>();
    var i = new TaskCompletionSource<int>();
    Task<int[]> all4 = Task.WhenAll(h.Task, i.Task);
    h.SetCanceled();
    i.SetException(new Exception("i"));
    P("canceled: " + all4.IsCanceled + ", faulted: " + all4.IsFaulted);

    P("== WhenAny completes with the first, and does not fault");
    var j = new TaskCompletionSource<int>();
    var k = new TaskCompletionSource<int>();
    Task<Task<int>> any = Task.WhenAny(j.Task, k.Task);
    k.SetException(new Exception("k"));
    j.SetResult(1);
    P("any faulted: " + any.IsFaulted + ", winner faulted: " + any.Result.IsFaulted);
  }
}
