// tests/bridge/csharp/BridgeClient.cs: a real C# client of pollwake's C ABI
// bridge (interop/bridge/pollwake_bridge.h), as the LanceDB C# bridge
// pattern's C# side: P/Invoke into libpollwake_bridge.so, one
// TaskCompletionSource per call, so C# code simply awaits the library.
//
// Compiled with Mono's mcs and run with mono by tests/bridge/csharp_client_test.cc
// (LD_LIBRARY_PATH points at the library). It runs many calls at once and
// checks every result; the last line is "BridgeClient: PASS ..." (exit 0)
// or "BridgeClient: FAIL ..." (exit 1).
//
// The rules of the C header, as C# keeps them:
//   * The delegates handed to the library are static fields: they live as
//     long as the program, so the function pointers never dangle (a
//     delegate collected while the library may still call it is the
//     classic P/Invoke crash).
//   * user_data is a call id, not a pointer: the call's state lives in a
//     ConcurrentDictionary keyed by that id, and the completion takes it out
//     with TryRemove. A second completion for the same call (a library
//     breaking its promise) then finds nothing and is reported as such,
//     instead of reaching through a handle that the first one freed.
//   * A call whose start fails (the library refuses it without calling
//     done, or the P/Invoke itself throws) returns a faulted Task with a
//     BridgeException saying so; a refusal that did call done (as the
//     header promises) faults the Task with that same status.
//   * The message and row values are copied inside the callback: the
//     pointers are valid only during it.
//   * No managed exception leaves a callback: OnDone and OnRow catch
//     everything. The header forbids a callback to throw or longjmp, and a
//     managed exception in a callback called from native code does exactly
//     that on Linux: Mono unwinds it through the library's C++ frames
//     (skipping their unlocks and the call's one completion), .NET Core
//     ends the process. A caught failure faults that call's Task instead,
//     and is counted (CallbackFailures).
//   * Callbacks run on the bridge's runtime thread, so the TaskCompletionSource
//     is made with RunContinuationsAsynchronously: the code after an await
//     runs on the thread pool, never on the runtime thread (where it would
//     stall every other call, and where a blocking call would be refused).
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

static class Native {
  const string Lib = "pollwake_bridge";  // libpollwake_bridge.so

  [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
  public delegate void DoneFn(IntPtr userData, int status, IntPtr message, ulong value);
  [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
  public delegate void RowFn(IntPtr userData, long key, IntPtr value, UIntPtr len);

  [StructLayout(LayoutKind.Sequential)]
  public struct Filter {
    public long KeyMin;
    public long KeyMax;
    public IntPtr Contains;  // NULL: no substring filter
  }

  [DllImport(Lib)] public static extern int pwb_connect(string uri, uint latencyUs, DoneFn done, IntPtr ud);
  [DllImport(Lib)] public static extern int pwb_create_table(ulong conn, string table, DoneFn done, IntPtr ud);
  [DllImport(Lib)] public static extern int pwb_insert(ulong conn, string table, long[] keys,
      [MarshalAs(UnmanagedType.LPArray, ArraySubType = UnmanagedType.LPStr)] string[] values,
      UIntPtr n, DoneFn done, IntPtr ud);
  [DllImport(Lib)] public static extern int pwb_count(ulong conn, string table, DoneFn done, IntPtr ud);
  [DllImport(Lib)] public static extern int pwb_scan(ulong conn, string table, ref Filter filter,
      RowFn row, DoneFn done, IntPtr ud);
  [DllImport(Lib)] public static extern int pwb_close(ulong conn, DoneFn done, IntPtr ud);
  [DllImport(Lib)] public static extern int pwb_ping(DoneFn done, IntPtr ud);
  [DllImport(Lib)] public static extern int pwb_count_blocking(ulong conn, string table, out ulong n,
      StringBuilder message, UIntPtr cap);
  [DllImport(Lib)] public static extern int pwb_shutdown();
  [DllImport(Lib)] public static extern ulong pwb_runtime_starts();
  [DllImport(Lib)] public static extern IntPtr pwb_status_name(int status);
  // Not in the library: the P/Invoke itself throws EntryPointNotFoundException.
  [DllImport(Lib)] public static extern int pwb_no_such_function(DoneFn done, IntPtr ud);
}

// A C library that breaks the header's promises on purpose
// (tests/bridge/csharp/misbehaving_library.c).
static class Misbehaving {
  const string Lib = "pwb_misbehaving";  // libpwb_misbehaving.so
  [DllImport(Lib)] public static extern int pwbt_complete_twice(Native.DoneFn done, IntPtr ud);
  [DllImport(Lib)] public static extern int pwbt_refuse_silently(Native.DoneFn done, IntPtr ud);
}

// BridgeException: a call completed with a status other than PWB_OK, or
// could not start (Status is then StartFailed and InnerException says why).
class BridgeException : Exception {
  public const int StartFailed = -1;
  public readonly int Status;
  public BridgeException(int status, string message, Exception inner = null)
      : base(NameOf(status) + ": " + message, inner) {
    Status = status;
  }
  static string NameOf(int status) {
    return status == StartFailed ? "START_FAILED"
                                 : Marshal.PtrToStringAnsi(Native.pwb_status_name(status));
  }
}

// Bridge: the library's calls as awaitable Tasks.
static class Bridge {
  public const int OK = 0, CANCELED = 1, BAD_HANDLE = 3, NOT_FOUND = 4, NOT_RUNNING = 7, INTERNAL = 9;

  // One call's state, reached from the callbacks through its id.
  public sealed class Pending {
    public readonly TaskCompletionSource<ulong> Tcs =
        new TaskCompletionSource<ulong>(TaskCreationOptions.RunContinuationsAsynchronously);
    public readonly List<KeyValuePair<long, string>> Rows = new List<KeyValuePair<long, string>>();
    public int Status = -1;  // what done delivered (set once, before Tcs completes)
    public bool ThrowInDoneForTests;  // OnDone throws while handling this call
  }

  // The calls whose completion has not arrived yet, by id (the user_data).
  static readonly ConcurrentDictionary<long, Pending> Calls = new ConcurrentDictionary<long, Pending>();
  static long lastId = 0;
  // Completions or rows for an id that is not pending (a call completed
  // twice, or never started), and refusals whose status differs from the
  // one done delivered: a well-behaved library makes none.
  public static long StrayCompletions, StrayRows, StatusMismatches;
  // Exceptions caught inside a callback (each faulted its call's Task).
  public static long CallbackFailures;
  public static int PendingCalls { get { return Calls.Count; } }

  // [START csharp_callbacks]
  // Kept alive for the whole program (see the header comment).
  static readonly Native.DoneFn DoneCallback = OnDone;
  public static Native.DoneFn DoneCallbackForTests { get { return DoneCallback; } }
  static readonly Native.RowFn RowCallback = OnRow;

  static void OnDone(IntPtr ud, int status, IntPtr message, ulong value) {
    Pending p = null;
    try {
      long id = ud.ToInt64();
      if (!Calls.TryRemove(id, out p)) {  // the one completion takes the state out
        Interlocked.Increment(ref StrayCompletions);
        Console.WriteLine("BridgeClient: a completion for call " + id + ", which is not pending " +
                          "(completed twice, or never started): ignored");
        return;
      }
      p.Status = status;
      if (p.ThrowInDoneForTests) throw new InvalidOperationException("thrown in OnDone (test)");
      if (status == OK) {
        p.Tcs.SetResult(value);
      } else {
        p.Tcs.SetException(new BridgeException(status, Marshal.PtrToStringAnsi(message)));
      }
    } catch (Exception e) {  // never into the library's frames (see the header comment)
      CallbackFailed(p, "done", e);
    }
  }
  // [END csharp_callbacks]

  static void OnRow(IntPtr ud, long key, IntPtr value, UIntPtr len) {
    Pending p = null;
    try {
      if (!Calls.TryGetValue(ud.ToInt64(), out p)) {
        Interlocked.Increment(ref StrayRows);
        Console.WriteLine("BridgeClient: a row for call " + ud.ToInt64() + ", which is not pending: ignored");
        return;
      }
      var bytes = new byte[checked((int)(ulong)len)];
      Marshal.Copy(value, bytes, 0, bytes.Length);  // copied: valid only during the call
      lock (p.Rows) p.Rows.Add(new KeyValuePair<long, string>(key, Encoding.UTF8.GetString(bytes)));
    } catch (Exception e) {  // never into the library's frames
      CallbackFailed(p, "row", e);
    }
  }

  // A callback caught `e`: count it and fault the call's Task (if it is
  // known and not yet completed), so the awaiting code sees it. Itself
  // throws nothing.
  static void CallbackFailed(Pending p, string which, Exception e) {
    try {
      Interlocked.Increment(ref CallbackFailures);
      if (p != null) p.Tcs.TrySetException(e);
    } catch {
    }
  }

  // [START csharp_call]
  // Starts one call: `start` gets the user_data (the call's id) and returns
  // the library's status. The state is registered first: done may run on
  // the runtime thread before start returns.
  public static Task<ulong> Call(Func<IntPtr, int> start, out Pending pending,
                                 Action<Pending> prepare = null) {
    var p = new Pending();
    if (prepare != null) prepare(p);
    pending = p;
    long id = Interlocked.Increment(ref lastId);
    Calls[id] = p;
    int started;
    try {
      started = start(new IntPtr(id));
    } catch (Exception e) {  // e.g. the library or the function is missing
      Pending gone;
      if (Calls.TryRemove(id, out gone)) {
        p.Tcs.TrySetException(new BridgeException(BridgeException.StartFailed,
            "the call could not start: " + e.GetType().Name + ": " + e.Message, e));
      }
      return p.Tcs.Task;
    }
    if (started != OK) {
      Pending gone;
      if (Calls.TryRemove(id, out gone)) {
        // Refused without its completion (the header promises one): fault
        // the Task here, or it would never complete.
        p.Tcs.TrySetException(new BridgeException(started,
            "the call was refused at start and its completion never came"));
      } else if (p.Status != started) {
        // Refused, and done already ran (as promised): it must agree.
        Interlocked.Increment(ref StatusMismatches);
        Console.WriteLine("BridgeClient: call " + id + " returned " + started +
                          " but its completion said " + p.Status);
      }
    }
    return p.Tcs.Task;
  }
  public static Task<ulong> Call(Func<IntPtr, int> start) {
    Pending unused;
    return Call(start, out unused);
  }

  public static Task<ulong> ConnectAsync(string uri, uint latencyUs) {
    return Call(ud => Native.pwb_connect(uri, latencyUs, DoneCallback, ud));
  }
  public static Task<ulong> CreateTableAsync(ulong conn, string table) {
    return Call(ud => Native.pwb_create_table(conn, table, DoneCallback, ud));
  }
  public static Task<ulong> InsertAsync(ulong conn, string table, long[] keys, string[] values) {
    return Call(ud => Native.pwb_insert(conn, table, keys, values, (UIntPtr)keys.Length,
                                        DoneCallback, ud));
  }
  public static Task<ulong> CountAsync(ulong conn, string table) {
    return Call(ud => Native.pwb_count(conn, table, DoneCallback, ud));
  }
  // [END csharp_call]
  public static async Task<List<KeyValuePair<long, string>>> ScanAsync(ulong conn, string table,
                                                                       long keyMin, long keyMax) {
    var filter = new Native.Filter { KeyMin = keyMin, KeyMax = keyMax, Contains = IntPtr.Zero };
    Pending p;
    ulong delivered = await Call(ud => Native.pwb_scan(conn, table, ref filter, RowCallback,
                                                       DoneCallback, ud), out p);
    // Every row arrived before the completion, so the list is complete now.
    if ((ulong)p.Rows.Count != delivered) {
      throw new Exception("scan delivered " + p.Rows.Count + " rows but reported " + delivered);
    }
    return p.Rows;
  }
  public static Task<ulong> CloseAsync(ulong conn) {
    return Call(ud => Native.pwb_close(conn, DoneCallback, ud));
  }
}

// Gate: a ping whose done callback holds the runtime thread until the
// runtime is stopping (a probing pwb_ping is then refused with
// PWB_NOT_RUNNING). Probes start only after Release(). Bounded: 30 s.
static class Gate {
  static readonly Native.DoneFn HoldCallback = OnHold;
  static readonly Native.DoneFn NoopCallback = (ud, status, message, value) => {};
  static readonly ManualResetEventSlim holding = new ManualResetEventSlim(false);
  static volatile bool release;
  public static volatile bool TimedOut;

  public static bool Hold() {
    return Native.pwb_ping(HoldCallback, IntPtr.Zero) == Bridge.OK &&
           holding.Wait(TimeSpan.FromSeconds(30));
  }
  public static void Release() { release = true; }

  static void OnHold(IntPtr ud, int status, IntPtr message, ulong value) {
    try {
      holding.Set();
      var limit = DateTime.UtcNow + TimeSpan.FromSeconds(30);
      while (DateTime.UtcNow < limit) {
        if (release && Native.pwb_ping(NoopCallback, IntPtr.Zero) == Bridge.NOT_RUNNING) return;
        Thread.Sleep(1);
      }
      TimedOut = true;
    } catch (Exception) {  // never into the library's frames
      TimedOut = true;
    }
  }
}

static class Program {
  static int failures = 0;
  static void Check(bool ok, string what) {
    if (!ok) {
      failures++;
      Console.WriteLine("BridgeClient: check failed: " + what);
    }
  }

  static async Task<int> StatusOf(Task t) {
    try {
      await t;
      return Bridge.OK;
    } catch (BridgeException e) {
      return e.Status;
    }
  }

  // The exception a Task faulted with, waiting at most 10 s (a Task that
  // never completes is a failure here, not a hang); null if it did not fault.
  static async Task<Exception> FaultOf(Task t, string what) {
    if (await Task.WhenAny(t, Task.Delay(TimeSpan.FromSeconds(10))) != t) {
      Check(false, what + ": the Task never completed");
      return null;
    }
    return t.Exception != null ? t.Exception.InnerException : null;
  }

  // Calls whose start fails, and a library that breaks its promises.
  static async Task FailedStartsAndMisbehavingLibrary() {
    // The P/Invoke itself throws: a faulted Task, the cause inside.
    var e = await FaultOf(Bridge.Call(ud => Native.pwb_no_such_function(null, ud)), "missing function");
    var be = e as BridgeException;
    Check(be != null && be.Status == BridgeException.StartFailed &&
          be.InnerException is EntryPointNotFoundException &&
          be.Message.Contains("could not start"),
          "a start that throws faults the Task with the cause: " + e);

    // Refused without a completion: the Task faults with the returned status.
    e = await FaultOf(Bridge.Call(ud => Misbehaving.pwbt_refuse_silently(null, ud)), "silent refusal");
    be = e as BridgeException;
    Check(be != null && be.Status == Bridge.INTERNAL && be.Message.StartsWith("PWB_INTERNAL:") &&
          be.Message.Contains("refused at start"),
          "a refusal without its completion faults the Task: " + e);

    // Completed twice: the first completion counts, the second finds no
    // pending call and is reported (before: a use of a freed GCHandle).
    long straysBefore = Interlocked.Read(ref Bridge.StrayCompletions);
    ulong first = await Bridge.Call(ud => Misbehaving.pwbt_complete_twice(Bridge.DoneCallbackForTests, ud));
    Check(first == 7, "the first of two completions is the result: " + first);
    Check(Interlocked.Read(ref Bridge.StrayCompletions) == straysBefore + 1,
          "the second completion is reported as stray");
  }

  const int Clients = 16;       // concurrent "users", each with its own table
  const int RowsPerClient = 50; // one insert call per row: many calls in flight

  static async Task Client(ulong conn, int id) {
    string table = "t" + id;
    await Bridge.CreateTableAsync(conn, table);
    var inserts = new List<Task<ulong>>();
    for (int i = 0; i < RowsPerClient; i++) {
      inserts.Add(Bridge.InsertAsync(conn, table, new long[] { i }, new[] { table + "-" + i }));
    }
    ulong[] inserted = await Task.WhenAll(inserts);
    Check(inserted.All(n => n == 1), table + ": every insert reports one row");
    ulong count = await Bridge.CountAsync(conn, table);
    Check(count == RowsPerClient, table + ": count " + count);
    var rows = await Bridge.ScanAsync(conn, table, 10, 19);
    var keys = rows.Select(r => r.Key).OrderBy(k => k).ToArray();
    Check(keys.SequenceEqual(Enumerable.Range(10, 10).Select(k => (long)k)),
          table + ": scan 10..19 returned " + string.Join(",", keys));
    Check(rows.All(r => r.Value == table + "-" + r.Key), table + ": scan values");
  }

  static async Task<int> Run() {
    ulong startsBefore = Native.pwb_runtime_starts();
    // Several first connects at once: one runtime.
    ulong[] conns = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Bridge.ConnectAsync("cs", 100)));
    Check(Native.pwb_runtime_starts() == startsBefore + 1, "one runtime for concurrent connects");
    Check(conns.Distinct().Count() == 4, "distinct handles");

    // Many clients at once, each with many calls in flight.
    await Task.WhenAll(Enumerable.Range(0, Clients).Select(id => Client(conns[id % 4], id)));
    Console.WriteLine("BridgeClient: " + Clients + " clients x " + RowsPerClient +
                      " inserts, counts and scans checked");

    // Errors arrive as exceptions from await.
    Check(await StatusOf(Bridge.CountAsync(conns[0], "missing")) == Bridge.NOT_FOUND, "missing table");
    Check(await StatusOf(Bridge.CountAsync(0, "t0")) == Bridge.BAD_HANDLE, "zero handle");
    Check(await StatusOf(Bridge.CountAsync(conns[0] + 1, "t0")) == Bridge.BAD_HANDLE, "forged handle");
    await Bridge.CloseAsync(conns[3]);
    Check(await StatusOf(Bridge.CountAsync(conns[3], "t3")) == Bridge.BAD_HANDLE, "closed handle");

    // A callback that throws: caught inside OnDone, the call's Task faults
    // with that exception, and the library (whose frames it never crossed)
    // goes on serving calls.
    Bridge.Pending thrower;
    Task<ulong> thrown = Bridge.Call(ud => Native.pwb_ping(Bridge.DoneCallbackForTests, ud), out thrower,
                                     p => p.ThrowInDoneForTests = true);
    var te = await FaultOf(thrown, "throwing callback");
    Check(te is InvalidOperationException && Interlocked.Read(ref Bridge.CallbackFailures) == 1,
          "a throwing done callback faults its Task: " + te);
    Check(await Bridge.CountAsync(conns[0], "t0") == RowsPerClient, "the library still serves calls");

    // The blocking API from C#: the calling thread waits on the library's oneshot.
    ulong n;
    var msg = new StringBuilder(256);
    Check(Native.pwb_count_blocking(conns[0], "t0", out n, msg, (UIntPtr)msg.Capacity) == Bridge.OK &&
          n == RowsPerClient, "blocking count");

    // Shutdown with calls in flight: every Task faults with CANCELED. The
    // gate holds the runtime thread until the shutdown begins, so the calls
    // wait in the channel: "in flight" does not depend on this machine
    // reaching pwb_shutdown within one latency (1 s).
    ulong slow = await Bridge.ConnectAsync("cs", 1000000);
    Check(Gate.Hold(), "the gate's ping never ran");
    var inFlight = Enumerable.Range(0, 100).Select(_ => Bridge.CountAsync(slow, "t0")).ToArray();
    Gate.Release();
    Check(Native.pwb_shutdown() == Bridge.OK, "shutdown");
    Check(!Gate.TimedOut, "the gate never saw the runtime stop");
    int[] statuses = await Task.WhenAll(inFlight.Select(StatusOf));
    Check(statuses.All(s => s == Bridge.CANCELED), "in-flight calls canceled: " +
          string.Join(",", statuses.Distinct()));
    // After shutdown: refused at once (start returns PWB_NOT_RUNNING, done
    // already ran with it): a faulted Task that names the status.
    var refused = await FaultOf(Bridge.CountAsync(conns[0], "t0"), "after shutdown");
    Check(refused is BridgeException && ((BridgeException)refused).Status == Bridge.NOT_RUNNING &&
          refused.Message.StartsWith("PWB_NOT_RUNNING:"), "after shutdown: " + refused);

    // A later connect starts a new runtime; old handles are stale.
    ulong again = await Bridge.ConnectAsync("cs", 0);
    Check(await StatusOf(Bridge.CountAsync(conns[0], "t0")) == Bridge.BAD_HANDLE, "stale after restart");
    Check(await StatusOf(Bridge.CountAsync(again, "t0")) == Bridge.NOT_FOUND, "data gone after restart");
    Check(Native.pwb_shutdown() == Bridge.OK, "final shutdown");

    await FailedStartsAndMisbehavingLibrary();
    // Every call completed exactly once: nothing pending, nothing stray
    // (the one deliberate double completion above aside).
    Check(Bridge.PendingCalls == 0, Bridge.PendingCalls + " calls still pending");
    Check(Bridge.StrayCompletions == 1 && Bridge.StrayRows == 0,
          "stray completions " + Bridge.StrayCompletions + ", stray rows " + Bridge.StrayRows);
    Check(Bridge.StatusMismatches == 0, Bridge.StatusMismatches + " refusals disagreed with their done");
    Check(Interlocked.Read(ref Bridge.CallbackFailures) == 1,
          Bridge.CallbackFailures + " callbacks failed (1 deliberate)");
    return failures;
  }

  static int Main() {
    Task<int> run = Run();
    if (!run.Wait(TimeSpan.FromSeconds(60))) {  // the watchdog
      Console.WriteLine("BridgeClient: FAIL: not finished after 60 s (a lost completion?)");
      return 1;
    }
    if (run.Result != 0) {
      Console.WriteLine("BridgeClient: FAIL: " + run.Result + " checks failed");
      return 1;
    }
    Console.WriteLine("BridgeClient: PASS: every call completed once with the expected result");
    return 0;
  }
}
