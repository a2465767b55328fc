(* interop/hostloop/ocaml/hostloop.ml: the OCaml side of pollwake's host-loop
   executor, for programs whose event loop is Lwt's.

   A runtime is a pollwake HostExecutor bound to the OCaml main thread. Its
   notify hook is lwt_unix_send_notification (safe from any thread); the
   notification's callback, registered here with Lwt_unix.make_notification,
   runs the tasks that are ready and returns: it never blocks Lwt's loop.

   A promise is a pollwake Promise<std::string> that a C++ task awaits and
   OCaml settles (resolve / reject), usually by linking it to an Lwt
   promise with [of_lwt]. If the task drops it unsettled (the task was
   dropped, e.g. because the runtime closed), the [on_cancel] closure given
   to [make_promise] runs, on the main thread, so OCaml can cancel the work.
   Settle promises from the main thread (the resolver's cancel closure is an
   OCaml value). *)

type runtime
type promise
type resolver

external trace : string -> unit = "hl_trace"
external runtime_create : int -> runtime = "hl_runtime_create"
external run_ready : runtime -> int = "hl_run_ready"
external close : runtime -> unit = "hl_runtime_close"
external make_promise : (unit -> unit) -> promise * resolver = "hl_promise_make"
external resolve : resolver -> string -> bool = "hl_resolve"
external reject : resolver -> string -> bool = "hl_reject"

(* create (): a runtime whose ready tasks run from Lwt's loop. Each
   notification runs one pass: [on_notification ()] before it, [on_pass n]
   after it with the number of tasks it polled (both default to nothing). *)
let create ?(on_notification = fun () -> ()) ?(on_pass = fun (_ : int) -> ()) () =
  let rt = ref None in
  let id =
    Lwt_unix.make_notification (fun () ->
        match !rt with
        | Some r ->
            on_notification ();
            on_pass (run_ready r)
        | None -> ())
  in
  let r = runtime_create id in
  rt := Some r;
  r

(* of_lwt ?on_cancel p: a pollwake promise settled by the Lwt promise [p]
   (its value, or its exception's text as the error). If the C++ side drops
   it first, [p] is cancelled (Lwt.cancel) and [on_cancel] runs. *)
let of_lwt ?(on_cancel = fun () -> ()) (p : string Lwt.t) =
  let promise, resolver =
    make_promise (fun () ->
        on_cancel ();
        Lwt.cancel p)
  in
  Lwt.on_any p
    (fun v -> ignore (resolve resolver v))
    (fun e -> ignore (reject resolver (Printexc.to_string e)));
  promise
