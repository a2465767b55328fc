(* tests/hostloop/ocaml/lwt_scenario.ml: pollwake tasks on Lwt's event loop,
   the scenario of the ocaml-lwt-interop design plus its error and teardown
   cases. Every step prints one numbered line (Hostloop.trace, shared with
   the C++ side); lwt_scenario.expected holds the trace and
   lwt_scenario_test compares them.

   1. OCaml creates the runtime and an Lwt-enabled closure F, and calls a C++
      test function with F. Its task calls F in a loop; F returns a pollwake
      Promise linked to [Lwt.pause ()]; the task awaits it. Lwt's loop and
      the executor take turns through the runtime's eventfd, which Lwt
      watches.
   2. G's Lwt promise fails: the C++ task sees an error, fails, and the Lwt
      promise that stands for the task is rejected.
   3. A C++ thread resolves a Promise while Lwt sleeps in its loop.
   4. The GC collects the resolver of a Promise a task awaits: its finalizer
      only queues the C++ destructor; the next drain runs it, which rejects
      the Promise ("Resolver dropped") and wakes the task.
   5. A C++ thread drops a Promise whose cancel closure is OCaml: the closure
      runs on the main thread at the next drain, and its GC root goes too.
      Closing the runtime from that closure (inside run_ready) is refused:
      run_ready still uses the runtime.
   6. An OCaml closure that a task calls spawns a second task (a notify
      during the pass), then calls run_ready and close: both raise Failure
      and change nothing (the notify is not consumed: the second task runs
      in the next pass), and the runtime stays open.
   7. Re-entrancy: a task's on_done runs inside the pass. Settled with
      [Lwt.wakeup], its Lwt promise runs the waiting continuation right
      there, where run_ready is refused; settled with [Lwt.wakeup_later]
      (as everything in this file that runs inside a pass does), the
      continuation runs after the pass has returned.
   8. The host exits first: Lwt_main.run returns with a task still waiting on
      [Lwt_unix.sleep]; closing the runtime drops the task, and the Promise's
      cancel hook cancels the sleep.
   9. Misuse reaches OCaml as Failure: run_ready or a test function on a
      closed runtime, a Hostloop function on another OCaml thread.

   Everything here that settles an Lwt promise from inside a pass (on_done,
   the closures the tasks call, the cancel closures the drain runs) uses
   [Lwt.wakeup_later], so the continuations run after the pass (see
   Hostloop.in_resolution_loop); case 7 shows what [Lwt.wakeup] would do. *)

open Lwt.Syntax

external call_f_loop :
  Hostloop.runtime -> (int -> Hostloop.promise) -> int -> (string option -> unit) -> unit
  = "hl_test_call_f_loop"

external thread_wake : Hostloop.runtime -> (string option -> unit) -> unit
  = "hl_test_thread_wake"

external drop_on_thread : Hostloop.promise -> unit = "hl_test_drop_on_thread"

let trace = Hostloop.trace

(* An Lwt promise that stands for a C++ task, and the on_done that settles
   it. on_done runs inside the pass that finished the task: wakeup_later, so
   the promise's callbacks run after that pass (case 7). *)
let task_promise () =
  let p, r = Lwt.wait () in
  ( p,
    function
    | None -> Lwt.wakeup_later r ()
    | Some msg -> Lwt.wakeup_later_exn r (Failure msg) )

let () =
  (* A watchdog: a lost wakeup fails the test instead of hanging it. *)
  Lwt.async (fun () ->
      let* () = Lwt_unix.sleep 20. in
      prerr_endline "lwt_scenario: watchdog fired (lost wakeup?)";
      exit 3);
  trace "lwt_main: creates the runtime (its notify hook writes an eventfd that Lwt watches)";
  let rt =
    Hostloop.create
      ~on_notification:(fun () -> trace "lwt_loop: the notification fires -> run_ready")
      ~on_pass:(fun n -> trace (Printf.sprintf "lwt_loop: run_ready returned (%d polled)" n))
      ()
  in
  trace "lwt_main: creates closure F (Lwt-enabled)";
  (* [START hostloop_ocaml_f] *)
  let f i =
    trace "F: creates Lwt.pause () and links it to a pollwake Promise";
    Hostloop.of_lwt
      (let+ () = Lwt.pause () in
       trace "lwt_loop: Lwt.pause is resolved at the next tick -> resolves the Promise";
       Printf.sprintf "pause %d" i)
  in
  (* [END hostloop_ocaml_f] *)
  let main () =
    (* 1. The design's scenario. *)
    trace "lwt_main: calls the test function with F";
    let done1, on_done1 = task_promise () in
    call_f_loop rt f 3 on_done1;
    trace "lwt_main: waits for the task (Lwt_main.run sleeps)";
    let* () = done1 in
    trace "lwt_main: the task's Lwt promise is resolved";
    let* () = Lwt.pause () in
    (* 2. Errors, both ways. *)
    let g _ =
      trace "G: links the Promise to an Lwt promise that fails";
      Hostloop.of_lwt
        (let* () = Lwt.pause () in
         trace "lwt_loop: G's Lwt promise fails -> rejects the Promise";
         Lwt.fail_with "disk on fire")
    in
    let done2, on_done2 = task_promise () in
    call_f_loop rt g 1 on_done2;
    let* () =
      Lwt.catch
        (fun () ->
          let+ () = done2 in
          trace "lwt_main: BUG: the failed task's promise was resolved")
        (fun e ->
          trace ("lwt_main: the task's Lwt promise is rejected: " ^ Printexc.to_string e);
          Lwt.return_unit)
    in
    let* () = Lwt.pause () in
    (* 3. A wake from a C++ thread while Lwt sleeps. *)
    let done3, on_done3 = task_promise () in
    thread_wake rt on_done3;
    let* () = done3 in
    trace "lwt_main: the thread task's Lwt promise is resolved";
    let* () = Lwt.pause () in
    (* 4. The GC finalizes a resolver: the finalizer only queues. *)
    let awaiting5, now_awaiting5 = Lwt.wait () in
    let k _ =
      trace "K: makes a Promise and drops its resolver";
      let p, _ = Hostloop.make_promise (fun () -> ()) in
      Lwt.wakeup_later now_awaiting5 ();
      p
    in
    let done5, on_done5 = task_promise () in
    call_f_loop rt k 1 on_done5;
    let* () = awaiting5 in
    let* () = Lwt.pause () in
    Gc.full_major ();
    trace "lwt_main: Gc.full_major returned (the resolver's finalizer only queued its destructor)";
    let* () =
      Lwt.catch
        (fun () ->
          let+ () = done5 in
          trace "lwt_main: BUG: the task of a dropped resolver succeeded")
        (fun e ->
          trace ("lwt_main: the task's Lwt promise is rejected: " ^ Printexc.to_string e);
          Lwt.return_unit)
    in
    let* () = Lwt.pause () in
    (* 5. A C++ thread drops a Promise with an OCaml cancel closure. *)
    let roots_before = Hostloop.live_roots () in
    let cancelled, now_cancelled = Lwt.wait () in
    let p, r =
      Hostloop.make_promise (fun () ->
          trace
            (Printf.sprintf "on_cancel: runs on OCaml thread %d (the main thread is 0)"
               (Thread.id (Thread.self ())));
          (match Hostloop.close rt with
          | () -> trace "on_cancel: BUG: close during run_ready's drain returned"
          | exception Failure m -> trace ("on_cancel: close during the drain raises Failure: " ^ m));
          Lwt.wakeup_later now_cancelled ())
    in
    drop_on_thread p;
    trace
      (Printf.sprintf "lwt_main: a C++ thread dropped the Promise; %d root(s) still held"
         (Hostloop.live_roots () - roots_before));
    let* () = cancelled in
    let* () = Lwt.pause () in
    trace
      (Printf.sprintf "lwt_main: after the drain %d root(s) held; resolving now returns %b"
         (Hostloop.live_roots () - roots_before)
         (Hostloop.resolve r "too late"));
    (* 6. Closing the runtime from inside a task is refused. *)
    let done6b, on_done6b = task_promise () in
    let c _ =
      call_f_loop rt (fun _ -> Hostloop.of_lwt (Lwt.return "already resolved")) 1 on_done6b;
      (match Hostloop.run_ready rt with
      | _ -> trace "C: BUG: run_ready from inside a task returned"
      | exception Failure m -> trace ("C: run_ready from inside a task raises Failure: " ^ m));
      (match Hostloop.close rt with
      | () -> trace "C: BUG: close from inside a task returned"
      | exception Failure m -> trace ("C: close from inside a task raises Failure: " ^ m));
      Hostloop.of_lwt (Lwt.return "the runtime is still open")
    in
    let done6, on_done6 = task_promise () in
    call_f_loop rt c 1 on_done6;
    let* () = done6 in
    trace "lwt_main: that task finished normally";
    let* () = done6b in
    trace "lwt_main: the task it spawned finished too (no notification was lost)";
    let* () = Lwt.pause () in
    (* 7. Re-entrancy: where the continuation of a task's Lwt promise runs. *)
    let where_am_i settled_with =
      match Hostloop.run_ready rt with
      | n ->
          trace
            (Printf.sprintf "lwt_main: settled with %s, runs after the pass: run_ready polls %d"
               settled_with n)
      | exception Failure m ->
          trace (Printf.sprintf "lwt_main: settled with %s, runs inside the pass: %s" settled_with m)
    in
    let at_once _ = Hostloop.of_lwt (Lwt.return "at once") in
    let done7a, now_done7a = Lwt.wait () in
    call_f_loop rt at_once 1 (fun _ -> Lwt.wakeup now_done7a ());
    let* () = done7a in
    where_am_i "Lwt.wakeup";
    let* () = Lwt.pause () in
    let done7b, on_done7b = task_promise () in
    call_f_loop rt at_once 1 on_done7b;
    let* () = done7b in
    where_am_i "Lwt.wakeup_later";
    let* () = Lwt.pause () in
    (* 8. The host exits first. *)
    let awaiting, now_awaiting = Lwt.wait () in
    let h _ =
      trace "H: links the Promise to Lwt_unix.sleep 3600.";
      let p =
        Hostloop.of_lwt
          ~on_cancel:(fun () -> trace "H: cancel hook: the task dropped the Promise -> Lwt.cancel")
          (let+ () = Lwt_unix.sleep 3600. in
           "never")
      in
      Lwt.wakeup_later now_awaiting ();
      p
    in
    let done4, on_done4 = task_promise () in
    call_f_loop rt h 1 on_done4;
    let* () = awaiting in
    let* () = Lwt.pause () in
    trace
      (Printf.sprintf "lwt_main: leaves Lwt_main.run; the task is still waiting (%s)"
         (match Lwt.state done4 with Lwt.Sleep -> "its Lwt promise sleeps" | _ -> "BUG"));
    Lwt.return_unit
  in
  Lwt_main.run (main ());
  trace "lwt_main: closes the runtime (the host loop exits first)";
  Hostloop.close rt;
  (* 9. Misuse gives Failure. *)
  let expect_failure what f =
    match f () with
    | () -> trace ("lwt_main: BUG: " ^ what ^ " returned")
    | exception Failure m -> trace ("lwt_main: " ^ what ^ " raises Failure: " ^ m)
  in
  expect_failure "run_ready after close" (fun () -> ignore (Hostloop.run_ready rt));
  expect_failure "a test function after close" (fun () ->
      call_f_loop rt f 1 (fun _ -> ()));
  Hostloop.close rt;
  trace "lwt_main: a second close does nothing";
  (* The thread reports through a condition and then parks until the process
     exits: a joined OCaml thread trips AddressSanitizer's thread teardown in
     the --config=asan build (OCaml frees the signal stack ASan would unmap). *)
  let outcome = ref None and m = Mutex.create () and c = Condition.create () in
  ignore
    (Thread.create
       (fun () ->
         let o =
           match Hostloop.make_promise (fun () -> ()) with
           | _ -> "returned"
           | exception Failure msg -> "Failure: " ^ msg
         in
         Mutex.lock m;
         outcome := Some o;
         Condition.broadcast c;
         while true do Condition.wait c m done)
       ());
  Mutex.lock m;
  while !outcome = None do Condition.wait c m done;
  let outcome = Option.get !outcome in
  Mutex.unlock m;
  trace ("lwt_main: make_promise on another OCaml thread: " ^ outcome);
  trace "lwt_main: end"
