//! The Rust twin of bench/ffi_bench.cc: the real async-ffi crate (0.5.1)
//! polling a ready future through its C ABI, and cloning and dropping the
//! waker a future sees through it, beside the same work done directly.
//!
//!   ffi_peer [--min-time SECONDS]
//!
//! Prints Google-Benchmark-shaped JSON: per benchmark, wall-clock and CPU
//! nanoseconds per operation (ns_per_op, cpu_ns_per_op). One operation is one
//! poll, or one clone plus its drop; each run times batches of BATCH
//! operations, set-up (making the futures) outside the timed spans.
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use async_ffi::{FfiFuture, FutureExt};
use futures::task::{waker, ArcWake};

const BATCH: usize = 1000;

// black_box: keeps the optimizer from deleting the measured work
// (std::hint::black_box is not stable in rustc 1.63).
fn black_box<T>(x: T) -> T {
    // SAFETY: reads a valid, initialized local; the original is forgotten,
    // so the value is moved, not duplicated.
    unsafe {
        let y = std::ptr::read_volatile(&x);
        std::mem::forget(x);
        y
    }
}

fn thread_cpu_ns() -> f64 {
    let mut ts = Ts { sec: 0, nsec: 0 };
    // SAFETY: clock_gettime writes one timespec (two longs on LP64 Linux).
    unsafe { clock_gettime(3 /* CLOCK_THREAD_CPUTIME_ID */, &mut ts) };
    ts.sec as f64 * 1e9 + ts.nsec as f64
}
#[repr(C)]
struct Ts {
    sec: i64,
    nsec: i64,
}
extern "C" {
    fn clock_gettime(clock: i32, ts: *mut Ts) -> i32;
}

#[derive(Default)]
struct Totals {
    wall: f64,
    cpu: f64,
    ops: f64,
}
impl Totals {
    fn span<R>(&mut self, ops: usize, f: impl FnOnce() -> R) -> R {
        let (t, c) = (Instant::now(), thread_cpu_ns());
        let r = f();
        self.wall += t.elapsed().as_nanos() as f64;
        self.cpu += thread_cpu_ns() - c;
        self.ops += ops as f64;
        r
    }
}

struct CountWake(AtomicU64);
impl ArcWake for CountWake {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        arc_self.0.fetch_add(1, Ordering::Relaxed);
    }
}

fn poll_ready(through_c_abi: bool, min_ns: f64) -> Totals {
    let w = futures::task::noop_waker();
    let mut cx = Context::from_waker(&w);
    let mut t = Totals::default();
    let mut sum = 0u64;
    while t.wall < min_ns {
        if through_c_abi {
            let mut futs: Vec<FfiFuture<u32>> =
                (0..BATCH as u32).map(|i| async move { i }.into_ffi()).collect();
            t.span(BATCH, || {
                for f in futs.iter_mut() {
                    if let Poll::Ready(v) = Pin::new(f).poll(&mut cx) {
                        sum += v as u64;
                    }
                }
            });
        } else {
            let mut futs: Vec<std::future::Ready<u32>> =
                (0..BATCH as u32).map(std::future::ready).collect();
            t.span(BATCH, || {
                for f in futs.iter_mut() {
                    if let Poll::Ready(v) = Pin::new(f).poll(&mut cx) {
                        sum += v as u64;
                    }
                }
            });
        }
        black_box(sum);
    }
    t
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Direct,
    CAbi,
    CAbiShared,
}

fn clone_drop_batch(w: &Waker) {
    for _ in 0..BATCH {
        let clone = black_box(w).clone();
        // As the C++ side's benchmark::DoNotOptimize(&clone): the clone's
        // address escapes through a volatile read of a pointer, instead of
        // copying the 16-byte Waker through a volatile read on every op.
        black_box(&clone);
        drop(clone);
    }
}

fn waker_clone_drop(kind: Kind, min_ns: f64) -> Totals {
    let arc_waker = waker(Arc::new(CountWake(AtomicU64::new(0))));
    let mut cx = Context::from_waker(&arc_waker);
    let totals = Arc::new(std::sync::Mutex::new(Totals::default()));
    if kind == Kind::Direct {
        let mut t = Totals::default();
        while t.wall < min_ns {
            t.span(BATCH, || clone_drop_batch(&arc_waker));
        }
        return t;
    }
    // The future behind the C ABI: each poll clones what it sees as
    // cx.waker() (the crate's bridge) BATCH times, and returns Pending.
    let inner = totals.clone();
    let mut fut = futures::future::poll_fn(move |cx: &mut Context<'_>| -> Poll<u32> {
        let mut t = inner.lock().unwrap();
        if kind == Kind::CAbiShared {
            let first = cx.waker().clone(); // off the clock
            t.span(BATCH, || clone_drop_batch(&first));
        } else {
            t.span(BATCH, || clone_drop_batch(cx.waker()));
        }
        Poll::Pending
    })
    .into_ffi();
    loop {
        if totals.lock().unwrap().wall >= min_ns {
            break;
        }
        let _ = Pin::new(&mut fut).poll(&mut cx);
    }
    let t = totals.lock().unwrap();
    Totals { wall: t.wall, cpu: t.cpu, ops: t.ops }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut min_time = 0.3f64;
    if args.len() == 3 && args[1] == "--min-time" {
        min_time = args[2].parse().expect("--min-time SECONDS");
    }
    let min_ns = min_time * 1e9;
    let rows = vec![
        ("BM_ffi_poll_ready/direct", poll_ready(false, min_ns)),
        ("BM_ffi_poll_ready/c_abi", poll_ready(true, min_ns)),
        ("BM_ffi_waker_clone_drop/direct", waker_clone_drop(Kind::Direct, min_ns)),
        ("BM_ffi_waker_clone_drop/c_abi", waker_clone_drop(Kind::CAbi, min_ns)),
        ("BM_ffi_waker_clone_drop/c_abi_shared", waker_clone_drop(Kind::CAbiShared, min_ns)),
    ];
    println!("{{\n  \"context\": {{\"peer\": \"rust async-ffi 0.5.1\", \"batch\": {}}},\n  \"benchmarks\": [", BATCH);
    for (i, (name, t)) in rows.iter().enumerate() {
        println!(
            "    {{\"name\": \"{}\", \"peer\": \"async-ffi\", \"ns_per_op\": {:.3}, \"cpu_ns_per_op\": {:.3}, \"ops\": {}}}{}",
            name,
            t.wall / t.ops,
            t.cpu / t.ops,
            t.ops,
            if i + 1 < rows.len() { "," } else { "" }
        );
    }
    println!("  ]\n}}");
}
