// tests/oracles/csharp/11_continuation_contexts.cs: the C# oracle for
// examples/11_continuation_contexts.cc. Real C#, compiled with Mono's mcs and
// run with mono; it prints the same numbered trace as the C++ model, and
// CSharpOracleTest compares the two line for line.
//
//   mcs -out:11.exe 11_continuation_contexts.cs && mono 11.exe
//
// Thread names: "ui", "worker" and "main" are set by this program; thread
// pool threads have no name in .NET, so Who() reports them as "pool" (the C++
// model's csharp::ThreadPool names its threads "pool").
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

// A UI-thread-like loop: Post queues work, RunOnCurrentThread pumps it until
// Complete() (Stephen Toub's AsyncPump pattern).
sealed class SingleThreadSynchronizationContext : SynchronizationContext {
  private readonly Queue<KeyValuePair<SendOrPostCallback, object>> queue =
      new Queue<KeyValuePair<SendOrPostCallback, object>>();
  private bool completed;

  public override void Post(SendOrPostCallback d, object state) {
    lock (queue) {
      queue.Enqueue(new KeyValuePair<SendOrPostCallback, object>(d, state));
      Monitor.PulseAll(queue);
    }
  }

  public void RunOnCurrentThread() {
    while (true) {
      KeyValuePair<SendOrPostCallback, object> item;
      lock (queue) {
        while (queue.Count == 0 && !completed) Monitor.Wait(queue);
        if (queue.Count == 0) return;
        item = queue.Dequeue();
      }
      item.Key(item.Value);
    }
  }

  public void Complete() {
    lock (queue) {
      completed = true;
      Monitor.PulseAll(queue);
    }
  }
}

static class Program {
  static int step = 0;

  static string Who() {
    return Thread.CurrentThread.IsThreadPoolThread ? "pool" : Thread.CurrentThread.Name;
  }

  static void Say(string text) {
    Console.WriteLine("[" + (++step) + "] " + Who() + ": " + text);
  }

  static string ContextName() {
    return SynchronizationContext.Current == null ? "none" : "ui loop";
  }

  // The async method every part runs.
  static async Task Step(Task<int> source, bool continueOnCapturedContext) {
    Say("Step: before await (context: " + ContextName() + ")");
    int v = await source.ConfigureAwait(continueOnCapturedContext);
    Say("Step: after await, got " + v + " (context: " + ContextName() + ")");
  }

  // Runs `body` on a new thread named "ui" that has a
  // SingleThreadSynchronizationContext, then pumps it until the returned
  // task completes.
  static void OnUiThread(Func<SingleThreadSynchronizationContext, Task> body) {
    var ui = new Thread(() => {
      var ctx = new SingleThreadSynchronizationContext();
      SynchronizationContext.SetSynchronizationContext(ctx);
      Task t = body(ctx);
      t.ConfigureAwait(false).GetAwaiter().OnCompleted(ctx.Complete);
      ctx.RunOnCurrentThread();
      Say("ui loop ended");
    });
    ui.Name = "ui";
    ui.Start();
    ui.Join();
  }

  static Thread StartWorker(Action work) {
    var w = new Thread(() => work());
    w.Name = "worker";
    w.Start();
    return w;
  }

  static void Main() {
    Thread.CurrentThread.Name = "main";

    Say("Part A: await on the ui loop; a worker completes the source");
    OnUiThread(ctx => {
      var tcs = new TaskCompletionSource<int>();
      Task t = Step(tcs.Task, true);
      Say("Step returned an incomplete Task; the ui loop pumps");
      Thread w = StartWorker(() => {
        Say("SetResult(1): the continuation is posted to the ui loop");
        tcs.SetResult(1);
      });
      w.Join();
      return t;
    });

    Say("Part B: the same with ConfigureAwait(false)");
    OnUiThread(ctx => {
      var tcs = new TaskCompletionSource<int>();
      Task t = Step(tcs.Task, false);
      Say("Step returned an incomplete Task");
      Thread w = StartWorker(() => {
        Say("SetResult(2): the continuation runs here, inline");
        tcs.SetResult(2);
        Say("SetResult returned");
      });
      w.Join();
      return t;
    });

    Say("Part C: no SynchronizationContext; a worker completes the source");
    {
      var tcs = new TaskCompletionSource<int>();
      Task t = Step(tcs.Task, true);
      Say("Step returned an incomplete Task");
      Thread w = StartWorker(() => {
        Say("SetResult(3): the continuation runs here, inline");
        tcs.SetResult(3);
        Say("SetResult returned");
      });
      w.Join();
      t.Wait();
      Say("Step finished");
    }

    Say("Part D: no context; RunContinuationsAsynchronously");
    {
      var tcs = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
      Task t = Step(tcs.Task, true);
      Say("Step returned an incomplete Task");
      Thread w = StartWorker(() => {
        Say("SetResult(4): the continuation goes to the thread pool");
        tcs.SetResult(4);
      });
      t.Wait();
      w.Join();
      Say("Step finished");
    }

    Say("Part E: the ui loop itself completes the source");
    OnUiThread(ctx => {
      var tcs = new TaskCompletionSource<int>();
      Task t = Step(tcs.Task, true);
      Say("Step returned; posting a callback that completes the source");
      ctx.Post(_ => {
        Say("callback: SetResult(5): already on the ui loop, so inline");
        tcs.SetResult(5);
        Say("callback: SetResult returned");
      }, null);
      return t;
    });

    Say("Part F: awaiting a completed task does not suspend");
    OnUiThread(ctx => {
      Task t = Step(Task.FromResult(6), true);
      Say("Step returned a completed Task: " + t.IsCompleted);
      return t;
    });
  }
}
