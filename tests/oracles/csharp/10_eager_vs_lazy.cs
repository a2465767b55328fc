// tests/oracles/csharp/10_eager_vs_lazy.cs: the C# oracle for part 3 of
// examples/10_eager_vs_lazy.cc (the eager task). Real C#, compiled with
// Mono's mcs and run with mono. CSharpOracleTest compares its output with the
// lines of part 3, trace numbers removed on both sides (the C++ example
// numbers its three parts in one sequence; this program has only part 3).
//
//   mcs -out:10.exe 10_eager_vs_lazy.cs && mono 10.exe
using System;
using System.Threading.Tasks;

static class Program {
  static int step = 0;
  static TaskCompletionSource<uint> evt;

  static void Say(string text) {
    Console.WriteLine("[" + (++step) + "] " + text);
  }

  // fn event() -> EventFuture, the C# way: a task someone completes later.
  static Task<uint> Event() {
    evt = new TaskCompletionSource<uint>();
    return evt.Task;
  }

  // The `async fn trivial() -> u32` of examples/01_trivial.cc, as a C# async method.
  static async Task<uint> Trivial() {
    Console.WriteLine("Hello!");          // line 1
    Task<uint> e = Event();               // line 2
    uint value = await e;                 // line 3
    Console.WriteLine("Got: " + value);   // line 4
    return value * 2;                     // line 5
  }

  static void Main() {
    Say("main: calling Trivial()");
    Task<uint> t = Trivial();
    Say("main: Trivial() returned a Task; IsCompleted = " + t.IsCompleted);
    Say("main: the event fires: SetResult(21) runs the rest of Trivial() inline");
    evt.SetResult(21);
    Say("main: SetResult returned; IsCompleted = " + t.IsCompleted);
    Say("main: Result = " + t.Result);
  }
}
