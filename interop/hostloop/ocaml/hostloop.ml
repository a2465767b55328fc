(* interop/hostloop/ocaml/hostloop.ml: the OCaml side of pollwake's host-loop
   executor, for programs whose event loop is Lwt's.

   A runtime is a pollwake HostExecutor bound to the OCaml main thread. Its
   notify hook writes an eventfd that the runtime owns; [create] watches that
   descriptor with [Lwt_engine.on_readable], and the callback runs the tasks
   that are ready ([run_ready]) and returns: it never blocks Lwt's loop.

   A promise is a pollwake Promise<std::string> that a C++ task awaits and
   OCaml settles (resolve / reject), usually by linking it to an Lwt
   promise with [of_lwt]. If the task drops it unsettled (the task was
   dropped, e.g. because the runtime closed), the [on_cancel] closure given
   to [make_promise] runs, on the main thread, so OCaml can cancel the work.

   Threading rule: every function here must be called from the main thread
   (the one that initialised this module); on another OCaml thread they
   raise [Failure]. C++ threads may wake tasks and settle or drop promises:
   whatever that needs of OCaml (an on_cancel closure, removing a GC root)
   waits for the main thread's next [run_ready] or [close]. A C++ exception
   inside a function here reaches OCaml as [Failure] with its message. *)

type runtime
type promise
type resolver

external init : unit -> unit = "hl_init"

let () = init ()

external trace : string -> unit = "hl_trace"
external runtime_create : unit -> runtime = "hl_runtime_create"
external runtime_fd : runtime -> Unix.file_descr = "hl_runtime_fd"
external run_ready : runtime -> int = "hl_run_ready"
external shutdown_runtime : runtime -> unit = "hl_runtime_shutdown"
external close_runtime : runtime -> unit = "hl_runtime_close"
external make_promise : (unit -> unit) -> promise * resolver = "hl_promise_make"
external resolve : resolver -> string -> bool = "hl_resolve"
external reject : resolver -> string -> bool = "hl_reject"

(* live_roots (): how many OCaml values the C++ side keeps rooted now. *)
external live_roots : unit -> int = "hl_live_roots"

(* The Lwt events watching the open runtimes' eventfds, so [close] can stop
   them before the descriptor is closed. *)
let watches : (runtime * Lwt_engine.event) list ref = ref []

(* [START hostloop_ocaml_pass] *)
(* in_resolution_loop f: runs [f ()] as the callback of an Lwt promise that
   is resolved here, i.e. inside Lwt's resolution loop, and returns (or
   raises) what it did.

   Why: a pass runs OCaml code that settles Lwt promises. A task that
   finishes calls its on_done; a task calls OCaml closures; the drain runs
   cancel closures. The callbacks waiting on those promises must not run
   inside the pass, where the runtime is in use (run_ready and close raise
   Failure there) and where a loop of settlements would deepen the stack.
   So the OCaml side settles with [Lwt.wakeup_later], never [Lwt.wakeup],
   and cancels through [later] below:
   [Lwt.wakeup] runs the callbacks at once, deeper on the caller's stack,
   wherever it is called; [Lwt.wakeup_later] (Lwt 5) queues them when Lwt is
   already running callbacks, and Lwt runs the queue when the outermost
   callback returns, before it next waits for I/O. An engine callback such
   as this runtime's eventfd watch is not such a callback: there
   [Lwt.wakeup_later] would run them at once too. Running the pass inside
   the resolution loop makes it one, so every [Lwt.wakeup_later] of the
   pass runs its callbacks right after the pass has returned. *)
let in_resolution_loop f =
  let outcome = ref None in
  let p, r = Lwt.wait () in
  Lwt.on_success p (fun () ->
      outcome := Some (try Ok (f ()) with e -> Error (e, Printexc.get_raw_backtrace ())));
  Lwt.wakeup r ();
  match !outcome with
  | Some (Ok v) -> v
  | Some (Error (e, bt)) -> Printexc.raise_with_backtrace e bt
  | None -> failwith "Hostloop: the pass did not run"

(* create (): a runtime whose ready tasks run from Lwt's loop. Each time the
   eventfd is readable one pass runs, inside Lwt's resolution loop (see
   in_resolution_loop): [on_notification ()] before it, [on_pass n] after
   it with the number of tasks it polled (both default to nothing); then
   the callbacks of the promises the pass settled with [Lwt.wakeup_later]. *)
let create ?(on_notification = fun () -> ()) ?(on_pass = fun (_ : int) -> ()) () =
  let r = runtime_create () in
  let ev =
    Lwt_engine.on_readable (runtime_fd r) (fun _ ->
        on_notification ();
        in_resolution_loop (fun () -> on_pass (run_ready r)))
  in
  watches := (r, ev) :: !watches;
  r
(* [END hostloop_ocaml_pass] *)

(* close r: shuts the executor down (its pending tasks are dropped; their
   promises' on_cancel closures run now), stops watching r's eventfd and
   closes it. Idempotent; afterwards [run_ready r] raises [Failure]. Called
   while [run_ready r] runs (from a closure a task called, or from an
   on_cancel closure its drain runs) it raises [Failure] and changes
   nothing. *)
let close r =
  shutdown_runtime r;
  let mine, others = List.partition (fun (r', _) -> r' == r) !watches in
  List.iter (fun (_, ev) -> Lwt_engine.stop_event ev) mine;
  watches := others;
  close_runtime r

(* later f: runs [f ()] as [Lwt.wakeup_later] runs callbacks: after the
   pass, when called inside one (see in_resolution_loop); at once outside.
   For what settles promises without a [_later] form: [Lwt.cancel] runs the
   callbacks of [p] and of what waits on it at once, wherever it is called. *)
let later f =
  let go, start = Lwt.wait () in
  Lwt.on_success go f;
  Lwt.wakeup_later start ()

(* of_lwt ?on_cancel p: a pollwake promise settled by the Lwt promise [p]
   (its value, or its exception's text as the error). If the C++ side drops
   it first, [on_cancel] runs and [p] is cancelled (Lwt.cancel, through
   [later]: a drop inside a pass cancels after it). *)
let of_lwt ?(on_cancel = fun () -> ()) (p : string Lwt.t) =
  let promise, resolver =
    make_promise (fun () ->
        on_cancel ();
        later (fun () -> Lwt.cancel p))
  in
  Lwt.on_any p
    (fun v -> ignore (resolve resolver v))
    (fun e -> ignore (reject resolver (Printexc.to_string e)));
  promise
