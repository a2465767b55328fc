// bench/peers/rust/src/main.rs: the workloads of bench/WORKLOADS.md on Rust's
// futures 0.3, tokio and std, so that pollwake's figures can be set beside
// them on the same machine.
//
// What it measures: wall-clock nanoseconds per operation (ns_per_op), the
// operation being the one bench/WORKLOADS.md defines for each workload. How: each
// workload is a closure that runs `n` iterations and returns how many
// operations they held; the harness doubles `n` until one run lasts at least
// --min-time seconds, then runs 5 repetitions of that size and reports the
// median. --smoke runs one tiny repetition instead (it checks that everything
// runs, not how fast).
//
// Usage: pollwake-peers [--smoke] [--min-time S] [--reps N] [--filter S]
//                       --group single|threaded
//   single:   workloads that start no thread. This process has then started
//             no other thread, so glibc's malloc skips locked instructions, as
//             in pollwake's single-thread binary (bench/WORKLOADS.md, "Measuring fairly").
//   threaded: threadpool_spawn and cross_thread_wake.
// Output (stdout): one JSON document shaped like Google Benchmark's
// (`{"context": {...}, "benchmarks": [{"name", "peer", "ns_per_op", ...}]}`).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};
use std::time::Instant;

// ---------------------------------------------------------------- harness

// black_box: keeps the optimizer from deleting the measured work
// (std::hint::black_box is not stable in rustc 1.63).
fn black_box<T>(x: T) -> T {
    // SAFETY: reads `x` once by value and forgets the original, so the value
    // is moved, not duplicated.
    unsafe {
        let y = std::ptr::read_volatile(&x);
        std::mem::forget(x);
        y
    }
}

struct Config {
    smoke: bool,
    min_time: f64,
    reps: usize,
    // --filter S: run only the rows whose "name/peer" contains S (for
    // profiling one workload under callgrind).
    filter: Option<String>,
}

struct Row {
    name: String,
    peer: &'static str,
    ns_per_op: f64,
    cpu_ns_per_op: f64,
    iterations: u64,
    ops: u64,
    reps: usize,
}

// measure: `run(n)` runs n iterations and returns the number of operations.
fn measure(cfg: &Config, name: &str, peer: &'static str, rows: &mut Vec<Row>,
           mut run: impl FnMut(u64) -> u64) {
    measure_timed(cfg, name, peer, rows, |n| {
        let t = Instant::now();
        let c = process_cpu_ns();
        let ops = run(n);
        (ops, t.elapsed().as_nanos() as f64, process_cpu_ns() - c)
    })
}

// process_cpu_ns: CPU time used so far by every thread of this process (on
// a loaded machine, wall-clock time also counts waiting for a CPU).
fn process_cpu_ns() -> f64 {
    // SAFETY: clock_gettime only writes the timespec it is given.
    unsafe {
        let mut ts: libc::timespec = std::mem::zeroed();
        libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts);
        ts.tv_sec as f64 * 1e9 + ts.tv_nsec as f64
    }
}

// measure_timed: as measure, but `run(n)` times itself and returns
// (operations, wall nanoseconds, CPU nanoseconds), so that set-up inside it
// stays off the clock.
fn measure_timed(cfg: &Config, name: &str, peer: &'static str, rows: &mut Vec<Row>,
                 mut run: impl FnMut(u64) -> (u64, f64, f64)) {
    if let Some(f) = &cfg.filter {
        if !format!("{}/{}", name, peer).contains(f.as_str()) {
            return;
        }
    }
    let mut n: u64 = 1;
    if cfg.smoke {
        n = 3;
    } else {
        loop {
            let s = run(n).1 / 1e9;
            if s >= cfg.min_time || n >= (1 << 40) {
                break;
            }
            // Grow towards the target, at most 10x per step (as Google Benchmark).
            let grow = if s > 0.0 { (cfg.min_time * 1.4 / s).min(10.0) } else { 10.0 };
            n = ((n as f64) * grow.max(2.0)).ceil() as u64;
        }
    }
    let reps = if cfg.smoke { 1 } else { cfg.reps };
    let mut per_op = Vec::with_capacity(reps);
    let mut cpu_per_op = Vec::with_capacity(reps);
    let mut ops = 0;
    for _ in 0..reps {
        let (o, ns, cpu) = run(n);
        ops = o;
        per_op.push(ns / ops as f64);
        cpu_per_op.push(cpu / ops as f64);
    }
    per_op.sort_by(|a, b| a.partial_cmp(b).unwrap());
    cpu_per_op.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let median = per_op[per_op.len() / 2];
    let cpu_median = cpu_per_op[cpu_per_op.len() / 2];
    rows.push(Row { name: name.to_string(), peer, ns_per_op: median, cpu_ns_per_op: cpu_median,
                    iterations: n, ops, reps });
}

fn threads_in_process() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Threads:"))
                .and_then(|l| l[8..].trim().parse().ok())
        })
        .unwrap_or(0)
}

// pin_to_cpu: pins the calling thread to `cpu` (sched_setaffinity on tid 0).
fn pin_to_cpu(cpu: usize) {
    // SAFETY: cpu_set_t is plain data; zeroed is a valid empty set.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        let rc = libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
        assert_eq!(rc, 0, "sched_setaffinity failed");
    }
}

// first_allowed_cpu: the lowest CPU this process may run on.
fn first_allowed_cpu() -> usize {
    // SAFETY: as above; sched_getaffinity fills the set.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set);
        (0..libc::CPU_SETSIZE as usize).find(|&c| libc::CPU_ISSET(c, &set)).unwrap_or(0)
    }
}

// ---------------------------------------------------------------- futures

// YieldOnce: wakes its own task and returns Pending once, then Ready.
struct YieldOnce(bool);
impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

// A waker whose wake does a relaxed atomic increment, through futures'
// ArcWake (peer "futures") and through std's Wake (peer "std").
struct Counter(AtomicUsize);
impl futures::task::ArcWake for Counter {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        arc_self.0.fetch_add(1, Ordering::Relaxed);
    }
}
struct StdCounter(AtomicUsize);
impl std::task::Wake for StdCounter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

// The static-vtable waker: no allocation, no reference count; wake sets a
// global flag.
static FLAG: AtomicBool = AtomicBool::new(false);
fn static_clone(_: *const ()) -> RawWaker {
    RawWaker::new(std::ptr::null(), &STATIC_VTABLE)
}
fn static_wake(_: *const ()) {
    FLAG.store(true, Ordering::Relaxed);
}
fn static_drop(_: *const ()) {}
static STATIC_VTABLE: RawWakerVTable =
    RawWakerVTable::new(static_clone, static_wake, static_wake, static_drop);

// waker_fn as the waker-fn crate builds it (the crate itself is not packaged
// in Debian 12): an Arc around the closure, behind std's Wake.
struct FnWaker<F>(F);
impl<F: Fn() + Send + Sync + 'static> std::task::Wake for FnWaker<F> {
    fn wake(self: Arc<Self>) {
        (self.0)()
    }
    fn wake_by_ref(self: &Arc<Self>) {
        (self.0)()
    }
}
fn waker_fn<F: Fn() + Send + Sync + 'static>(f: F) -> Waker {
    Waker::from(Arc::new(FnWaker(f)))
}

// check: an assertion on a count the measured loop leaves behind; skipped
// when --filter may have skipped the loop.
fn check(cfg: &Config, ok: bool, what: &str) {
    if cfg.filter.is_none() {
        assert!(ok, "{}", what);
    }
}

fn wakers(cfg: &Config, rows: &mut Vec<Row>) {
    let counter = Arc::new(Counter(AtomicUsize::new(0)));
    let w = futures::task::waker(counter.clone());
    measure(cfg, "BM_waker_clone_drop", "futures", rows, |n| {
        for _ in 0..n {
            drop(black_box(black_box(&w).clone()));
        }
        n
    });
    measure(cfg, "BM_waker_wake_by_ref_arc", "futures", rows, |n| {
        for _ in 0..n {
            black_box(&w).wake_by_ref();
        }
        n
    });
    check(cfg, counter.0.load(Ordering::Relaxed) > 0, "ArcWake never woken");

    let std_counter = Arc::new(StdCounter(AtomicUsize::new(0)));
    let sw = Waker::from(std_counter.clone());
    measure(cfg, "BM_waker_clone_drop", "std", rows, |n| {
        for _ in 0..n {
            drop(black_box(black_box(&sw).clone()));
        }
        n
    });
    measure(cfg, "BM_waker_wake_by_ref_arc", "std", rows, |n| {
        for _ in 0..n {
            black_box(&sw).wake_by_ref();
        }
        n
    });
    check(cfg, std_counter.0.load(Ordering::Relaxed) > 0, "Wake never woken");

    // SAFETY: STATIC_VTABLE keeps RawWaker's contract: every entry ignores the
    // (null) data pointer and is safe from any thread.
    let st = unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), &STATIC_VTABLE)) };
    measure(cfg, "BM_waker_wake_by_ref_static", "std", rows, |n| {
        for _ in 0..n {
            black_box(&st).wake_by_ref();
        }
        n
    });
    check(cfg, FLAG.load(Ordering::Relaxed), "static waker never woken");

    let hits = Arc::new(AtomicUsize::new(0));
    let h2 = hits.clone();
    let fw = waker_fn(move || {
        h2.fetch_add(1, Ordering::Relaxed);
    });
    measure(cfg, "BM_waker_fn_wake", "std", rows, |n| {
        for _ in 0..n {
            black_box(&fw).wake_by_ref();
        }
        n
    });
    check(cfg, hits.load(Ordering::Relaxed) > 0, "waker_fn never woken");
}

const ROUND: u64 = 1000; // tasks per round (localpool_spawn_run, threadpool_spawn)
const PINGPONG_K: u64 = 1000; // yields per task (localpool_yield_pingpong)

fn yielder(k: u64) -> impl Future<Output = ()> {
    async move {
        for _ in 0..k {
            YieldOnce(false).await;
        }
    }
}

fn futures_single(cfg: &Config, rows: &mut Vec<Row>) {
    use futures::executor::{block_on, LocalPool};
    use futures::task::LocalSpawnExt;
    measure(cfg, "BM_block_on_ready", "futures", rows, |n| {
        let mut sum = 0u64;
        for i in 0..n {
            sum += block_on(futures::future::ready(black_box(i)));
        }
        black_box(sum);
        n
    });
    measure(cfg, "BM_block_on_yield", "futures", rows, |n| {
        for _ in 0..n {
            block_on(YieldOnce(false));
        }
        n
    });
    let mut pool = LocalPool::new();
    let spawner = pool.spawner();
    let done = std::rc::Rc::new(std::cell::Cell::new(0u64));
    measure(cfg, "BM_localpool_spawn_run", "futures", rows, |n| {
        for _ in 0..n {
            for _ in 0..ROUND {
                let d = done.clone();
                spawner.spawn_local(async move { d.set(d.get() + 1) }).unwrap();
            }
            pool.run();
        }
        n * ROUND
    });
    check(cfg, done.get() > 0, "no task ran");
    measure(cfg, "BM_localpool_yield_pingpong", "futures", rows, |n| {
        for _ in 0..n {
            spawner.spawn_local(yielder(PINGPONG_K)).unwrap();
            spawner.spawn_local(yielder(PINGPONG_K)).unwrap();
            pool.run();
        }
        n * 2 * PINGPONG_K
    });
}

fn tokio_single(cfg: &Config, rows: &mut Vec<Row>) {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    measure(cfg, "BM_block_on_ready", "tokio", rows, |n| {
        let mut sum = 0u64;
        for i in 0..n {
            sum += rt.block_on(futures::future::ready(black_box(i)));
        }
        black_box(sum);
        n
    });
    measure(cfg, "BM_block_on_yield", "tokio", rows, |n| {
        for _ in 0..n {
            rt.block_on(YieldOnce(false));
        }
        n
    });
    let mut local = tokio::task::LocalSet::new();
    let done = std::rc::Rc::new(std::cell::Cell::new(0u64));
    measure(cfg, "BM_localpool_spawn_run", "tokio", rows, |n| {
        for _ in 0..n {
            for _ in 0..ROUND {
                let d = done.clone();
                drop(local.spawn_local(async move { d.set(d.get() + 1) }));
            }
            rt.block_on(&mut local); // completes when every task has finished
        }
        n * ROUND
    });
    check(cfg, done.get() > 0, "no task ran");
    measure(cfg, "BM_localpool_yield_pingpong", "tokio", rows, |n| {
        for _ in 0..n {
            drop(local.spawn_local(yielder(PINGPONG_K)));
            drop(local.spawn_local(yielder(PINGPONG_K)));
            rt.block_on(&mut local);
        }
        n * 2 * PINGPONG_K
    });
}

// Latch: counted down by each task; the last one unparks the main thread.
struct Latch {
    count: AtomicUsize,
    main: std::thread::Thread,
}
impl Latch {
    fn count_down(&self) {
        if self.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.main.unpark();
        }
    }
    fn wait(&self) {
        while self.count.load(Ordering::Acquire) != 0 {
            std::thread::park();
        }
    }
}

fn threadpool(cfg: &Config, rows: &mut Vec<Row>) {
    let pool = futures::executor::ThreadPool::builder().pool_size(2).create().unwrap();
    measure(cfg, "BM_threadpool_spawn", "futures", rows, |n| {
        for _ in 0..n {
            let latch = Arc::new(Latch {
                count: AtomicUsize::new(ROUND as usize),
                main: std::thread::current(),
            });
            for _ in 0..ROUND {
                let l = latch.clone();
                pool.spawn_ok(async move { l.count_down() });
            }
            latch.wait();
        }
        n * ROUND
    });
    drop(pool);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    measure(cfg, "BM_threadpool_spawn", "tokio", rows, |n| {
        for _ in 0..n {
            let latch = Arc::new(Latch {
                count: AtomicUsize::new(ROUND as usize),
                main: std::thread::current(),
            });
            for _ in 0..ROUND {
                let l = latch.clone();
                drop(rt.spawn(async move { l.count_down() }));
            }
            latch.wait();
        }
        n * ROUND
    });
}

// cross_thread_wake: n round trips; the oneshots are made before the clock
// starts (in every implementation), so one operation is send, wake, park,
// reply and wake back.
fn cross_thread(cfg: &Config, rows: &mut Vec<Row>) {
    let cpu = first_allowed_cpu();
    pin_to_cpu(cpu);
    measure_timed(cfg, "BM_cross_thread_wake", "futures", rows, |n| {
        use futures::channel::oneshot;
        let (mut ping_tx, mut ping_rx, mut reply_tx, mut reply_rx) = (vec![], vec![], vec![], vec![]);
        for _ in 0..n {
            let (a, b) = oneshot::channel::<u64>();
            let (c, d) = oneshot::channel::<u64>();
            ping_tx.push(a);
            ping_rx.push(b);
            reply_tx.push(c);
            reply_rx.push(d);
        }
        let helper = std::thread::spawn(move || {
            pin_to_cpu(cpu);
            for (rx, tx) in ping_rx.into_iter().zip(reply_tx) {
                let v = futures::executor::block_on(rx).unwrap();
                tx.send(v + 1).unwrap();
            }
        });
        let t = Instant::now();
        let c = process_cpu_ns();
        for (i, (tx, rx)) in ping_tx.into_iter().zip(reply_rx).enumerate() {
            tx.send(i as u64).unwrap();
            assert_eq!(futures::executor::block_on(rx).unwrap(), i as u64 + 1);
        }
        let (ns, cpu) = (t.elapsed().as_nanos() as f64, process_cpu_ns() - c);
        helper.join().unwrap();
        (n, ns, cpu)
    });
    measure_timed(cfg, "BM_cross_thread_wake", "tokio", rows, |n| {
        use tokio::sync::oneshot;
        let (mut ping_tx, mut ping_rx, mut reply_tx, mut reply_rx) = (vec![], vec![], vec![], vec![]);
        for _ in 0..n {
            let (a, b) = oneshot::channel::<u64>();
            let (c, d) = oneshot::channel::<u64>();
            ping_tx.push(a);
            ping_rx.push(b);
            reply_tx.push(c);
            reply_rx.push(d);
        }
        let helper = std::thread::spawn(move || {
            pin_to_cpu(cpu);
            let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            for (rx, tx) in ping_rx.into_iter().zip(reply_tx) {
                let v = rt.block_on(rx).unwrap();
                tx.send(v + 1).unwrap();
            }
        });
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let t = Instant::now();
        let c = process_cpu_ns();
        for (i, (tx, rx)) in ping_tx.into_iter().zip(reply_rx).enumerate() {
            tx.send(i as u64).unwrap();
            assert_eq!(rt.block_on(rx).unwrap(), i as u64 + 1);
        }
        let (ns, cpu) = (t.elapsed().as_nanos() as f64, process_cpu_ns() - c);
        helper.join().unwrap();
        (n, ns, cpu)
    });
}

fn main() {
    let mut cfg = Config { smoke: false, min_time: 0.2, reps: 5, filter: None };
    let mut group = String::from("single");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--smoke" => cfg.smoke = true,
            "--min-time" => {
                i += 1;
                cfg.min_time = args[i].parse().expect("--min-time S");
            }
            "--reps" => {
                i += 1;
                cfg.reps = args[i].parse().expect("--reps N");
            }
            "--filter" => {
                i += 1;
                cfg.filter = Some(args[i].clone());
            }
            "--group" => {
                i += 1;
                group = args[i].clone();
            }
            other => panic!("unknown argument {}", other),
        }
        i += 1;
    }
    let mut rows = Vec::new();
    match group.as_str() {
        "single" => {
            wakers(&cfg, &mut rows);
            futures_single(&cfg, &mut rows);
            tokio_single(&cfg, &mut rows);
        }
        "threaded" => {
            threadpool(&cfg, &mut rows);
            cross_thread(&cfg, &mut rows);
        }
        g => panic!("unknown group {}", g),
    }
    // Reported so that the runner can check the single group really ran in a
    // process with one thread.
    let threads = threads_in_process();
    println!("{{");
    println!("  \"context\": {{\"executable\": \"pollwake-peers\", \"group\": \"{}\", \"smoke\": {}, \"threads_at_end\": {}}},",
             group, cfg.smoke, threads);
    println!("  \"benchmarks\": [");
    for (k, r) in rows.iter().enumerate() {
        println!("    {{\"name\": \"{}\", \"peer\": \"{}\", \"ns_per_op\": {:.3}, \"cpu_ns_per_op\": {:.3}, \"iterations\": {}, \"ops_per_run\": {}, \"repetitions\": {}}}{}",
                 r.name, r.peer, r.ns_per_op, r.cpu_ns_per_op, r.iterations, r.ops, r.reps,
                 if k + 1 < rows.len() { "," } else { "" });
    }
    println!("  ]");
    println!("}}");
}
