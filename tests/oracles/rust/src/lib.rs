//! tests/oracles/rust/src/lib.rs: what every Rust twin shares.
//!
//! * `trace`: prints one numbered line, `[n] text`, as the C++ examples do.
//! * `TASK` and `printing_waker`: a `Waker` built from a `RawWaker` and a
//!   static table of four functions that print what they are asked to do (the
//!   twin of the C++ examples' printing waker). `wake` and `wake_by_ref` also
//!   set the task's `woken` flag, which a hand-written driver loop reads.
//! * `catch_panic`: runs a closure, returns the panic message if it panicked,
//!   and keeps the default hook from printing to stderr.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Once;
use std::task::{RawWaker, RawWakerVTable, Waker};

static STEP: AtomicUsize = AtomicUsize::new(0);

/// Prints `[n] text`, n counting from 1 for the whole program.
pub fn trace(text: &str) {
    // ORDERING: Relaxed: a counter, nothing else is published through it.
    // Only the main thread traces; other threads print waker lines only.
    let n = STEP.fetch_add(1, Ordering::Relaxed) + 1;
    println!("[{}] {}", n, text);
}

/// A task as the printing waker sees it: a name and a "woken" flag.
pub struct Task {
    pub name: &'static str,
    pub woken: AtomicBool,
}

impl Task {
    pub const fn new(name: &'static str) -> Task {
        Task { name, woken: AtomicBool::new(false) }
    }
    /// Returns the flag and clears it (what a driver loop does before polling).
    pub fn take_woken(&self) -> bool {
        // ORDERING: SeqCst pairs with the store in wake/wake_by_ref, which
        // may run on another thread (08's timer); Acquire/Release would do,
        // SeqCst keeps the teaching code free of that argument.
        self.woken.swap(false, Ordering::SeqCst)
    }
}

fn task(data: *const ()) -> &'static Task {
    // SAFETY: every RawWaker made here points at a `static Task`.
    unsafe { &*(data as *const Task) }
}

static PRINTING_VTABLE: RawWakerVTable = RawWakerVTable::new(
    |data| {
        println!("    waker: clone (task {})", task(data).name);
        RawWaker::new(data, &PRINTING_VTABLE)
    },
    |data| {
        println!("    waker: wake, consumes the waker (task {})", task(data).name);
        task(data).woken.store(true, Ordering::SeqCst);
    },
    |data| {
        println!("    waker: wake_by_ref (task {})", task(data).name);
        task(data).woken.store(true, Ordering::SeqCst);
    },
    |data| println!("    waker: drop (task {})", task(data).name),
);

/// A waker for `task` whose four vtable functions print what they do.
pub fn printing_waker(task: &'static Task) -> Waker {
    let raw = RawWaker::new(task as *const Task as *const (), &PRINTING_VTABLE);
    // SAFETY: the vtable keeps RawWaker's contract: clone returns a RawWaker
    // for the same static data, and no function frees anything.
    unsafe { Waker::from_raw(raw) }
}

fn message(payload: Box<dyn Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic>".to_string()
    }
}

/// Runs `f`; Err(message) if it panicked. The panic is not printed.
pub fn catch_panic<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    static QUIET: Once = Once::new();
    QUIET.call_once(|| panic::set_hook(Box::new(|_| {})));
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(message)
}
