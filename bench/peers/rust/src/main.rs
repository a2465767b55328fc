// bench/peers/rust/src/main.rs: the benchmark workloads on Rust's futures
// 0.3, tokio, std, async-task, async-executor, futures-lite and waker-fn, so
// that pollwake's figures can be set beside them on the same machine.
//
// What it measures: wall-clock nanoseconds per operation (ns_per_op), CPU
// nanoseconds per operation (cpu_ns_per_op) and heap allocations per
// operation (allocs_per_op), the operation being the one the workload
// definitions name. How: each workload is a closure that runs `n`
// iterations (a tight loop of n operations, or n rounds of 1000 tasks) and
// returns how many operations they held; the harness grows `n` until one run
// lasts at least --min-time seconds, runs --reps repetitions of that size
// and reports the median. Then it runs n/8 more iterations with the counting
// allocator switched on (untimed) for allocs_per_op.
//
// Fairness, as on pollwake's side (bench/bench_util.h):
//   - the same barriers: do_not_optimize and opaque are the inline-asm
//     barriers of Google Benchmark's DoNotOptimize (a register or memory
//     operand and a memory clobber), not a volatile round trip;
//   - the same work per task: a task captures a &'static counter (no Rc
//     clone), threadpool_spawn's tasks hold a plain pointer to the latch (no
//     Arc clone), and the latch is the same futex word as pollwake's;
//   - the counting allocator costs one relaxed load and a predictable branch
//     per allocation while it is off, as the C++ side's operator new does.
//
// Usage: pollwake-peers [--smoke] [--min-time S] [--reps N] [--filter S]
//                       [--peer P] [--iters N] --group single|threaded
//   single:   workloads that start no thread. The process then has one
//             thread, so glibc's malloc skips locked instructions, as in
//             pollwake's single-thread binary; it exits with status 1 if it
//             finds a second thread at the end.
//   threaded: threadpool_spawn and cross_thread_wake.
//   --peer P: only the rows of peer P (the runner interleaves peers).
// Output (stdout): one JSON document shaped like Google Benchmark's
// (`{"context": {...}, "benchmarks": [{"name", "peer", "ns_per_op", ...}]}`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::arch::asm;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};
use std::time::Instant;

// ---------------------------------------------------------------- allocator

// Counting: the system allocator (glibc malloc, as Rust's default), counting
// allocations while COUNTING is set. Off during every timed run.
struct Counting;
static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCS: AtomicU64 = AtomicU64::new(0);

#[inline(always)]
fn count_alloc() {
    // Relaxed: the count is read after the counted run has finished and every
    // thread it used has been joined or has signalled the latch.
    if COUNTING.load(Ordering::Relaxed) {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: forwards every call to System unchanged; counting touches only
// two atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_alloc();
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_alloc();
        System.alloc_zeroed(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_alloc();
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

// ---------------------------------------------------------------- barriers

// do_not_optimize: Google Benchmark's DoNotOptimize(const T&): the address
// escapes into an asm statement that may read any memory, so the value must
// exist and stores before it must happen. (std::hint::black_box is not
// stable in rustc 1.63.)
#[inline(always)]
fn do_not_optimize<T>(x: &T) {
    // SAFETY: an empty asm statement; it only names the pointer.
    unsafe { asm!("/* {0} */", in(reg) x as *const T, options(nostack, preserves_flags)) }
}

// opaque: Google Benchmark's DoNotOptimize(T&) on a u64: the compiler must
// assume the asm changed the value (and memory).
#[inline(always)]
fn opaque(mut x: u64) -> u64 {
    // SAFETY: an empty asm statement on a register.
    unsafe { asm!("/* {0} */", inout(reg) x, options(nostack, preserves_flags)) }
    x
}

// ---------------------------------------------------------------- harness

struct Config {
    smoke: bool,
    min_time: f64,
    reps: usize,
    // --filter S: only rows whose "name/peer" contains S (for profiling one
    // workload under callgrind); --peer P: only the rows of peer P.
    filter: Option<String>,
    peer: Option<String>,
    // --iters N: run exactly N iterations, once, then the counting run (for
    // instruction counts under callgrind: the difference of two runs with
    // different N cancels start-up and the cold first round).
    iters: Option<u64>,
}

struct Row {
    name: String,
    peer: &'static str,
    ns_per_op: f64,
    cpu_ns_per_op: f64,
    allocs_per_op: f64,
    iterations: u64,
    ops: u64,
    reps: usize,
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

// Span: a timed section. start() reads both clocks and zeroes the
// allocation count; stop() returns (wall ns, CPU ns, allocations).
struct Span(Instant, f64);
impl Span {
    fn start() -> Span {
        ALLOCS.store(0, Ordering::Relaxed);
        Span(Instant::now(), process_cpu_ns())
    }
    fn stop(self) -> Timing {
        Timing {
            ops: 0,
            wall_ns: self.0.elapsed().as_nanos() as f64,
            cpu_ns: process_cpu_ns() - self.1,
            allocs: ALLOCS.load(Ordering::Relaxed),
        }
    }
}

struct Timing {
    ops: u64,
    wall_ns: f64,
    cpu_ns: f64,
    allocs: u64,
}

fn wanted(cfg: &Config, name: &str, peer: &str) -> bool {
    if let Some(p) = &cfg.peer {
        if p != peer {
            return false;
        }
    }
    if let Some(f) = &cfg.filter {
        if !format!("{}/{}", name, peer).contains(f.as_str()) {
            return false;
        }
    }
    true
}

// measure: `run(n)` runs n iterations, all on the clock, and returns the
// number of operations.
fn measure(cfg: &Config, name: &str, peer: &'static str, rows: &mut Vec<Row>,
           mut run: impl FnMut(u64) -> u64) {
    measure_timed(cfg, name, peer, rows, |n| {
        let span = Span::start();
        let ops = run(n);
        let mut t = span.stop();
        t.ops = ops;
        t
    })
}

// measure_timed: as measure, but `run(n)` times itself with Span (so that
// set-up inside it stays off the clock and out of the allocation count).
fn measure_timed(cfg: &Config, name: &str, peer: &'static str, rows: &mut Vec<Row>,
                 mut run: impl FnMut(u64) -> Timing) {
    if !wanted(cfg, name, peer) {
        return;
    }
    let mut n: u64 = 1;
    if cfg.smoke {
        n = 3;
    } else if let Some(k) = cfg.iters {
        n = k;
    } else {
        loop {
            let s = run(n).wall_ns / 1e9;
            if s >= cfg.min_time || n >= (1 << 40) {
                break;
            }
            // Grow towards the target, at most 10x per step (as Google Benchmark).
            let grow = if s > 0.0 { (cfg.min_time * 1.4 / s).min(10.0) } else { 10.0 };
            n = ((n as f64) * grow.max(2.0)).ceil() as u64;
        }
    }
    let reps = if cfg.smoke || cfg.iters.is_some() { 1 } else { cfg.reps };
    let mut per_op = Vec::with_capacity(reps);
    let mut cpu_per_op = Vec::with_capacity(reps);
    let mut ops = 0;
    for _ in 0..reps {
        let t = run(n);
        ops = t.ops;
        per_op.push(t.wall_ns / ops as f64);
        cpu_per_op.push(t.cpu_ns / ops as f64);
    }
    // Allocations per operation: a shorter, untimed run in the same warm
    // state, with the counter on.
    COUNTING.store(true, Ordering::Relaxed);
    let t = run((n / 8).max(1));
    COUNTING.store(false, Ordering::Relaxed);
    let allocs_per_op = t.allocs as f64 / t.ops as f64;
    per_op.sort_by(|a, b| a.partial_cmp(b).unwrap());
    cpu_per_op.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let median = per_op[per_op.len() / 2];
    let cpu_median = cpu_per_op[cpu_per_op.len() / 2];
    rows.push(Row { name: name.to_string(), peer, ns_per_op: median, cpu_ns_per_op: cpu_median,
                    allocs_per_op, iterations: n, ops, reps });
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

// libc_single_threaded: glibc's __libc_single_threaded (glibc 2.32+), false
// once the process has ever started a thread, even one that has exited since;
// threads_in_process() only sees the threads alive now.
fn libc_single_threaded() -> bool {
    extern "C" {
        static __libc_single_threaded: libc::c_char;
    }
    // SAFETY: a char that glibc defines for every process and only ever
    // changes from 1 to 0 on thread creation; read volatile, as a plain byte.
    unsafe { std::ptr::read_volatile(std::ptr::addr_of!(__libc_single_threaded)) != 0 }
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

// check: an assertion on a count that peer's measured loops leave behind;
// skipped when --filter or --peer may have skipped them.
fn check(cfg: &Config, peer: &str, ok: bool, what: &str) {
    if cfg.filter.is_none() && cfg.peer.as_deref().map_or(true, |p| p == peer) {
        assert!(ok, "{}", what);
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

// The waker_fn closure's counter: a global, as in pollwake's bench, so both
// closures capture nothing and do the same relaxed increment.
static FN_HITS: AtomicUsize = AtomicUsize::new(0);

fn wakers(cfg: &Config, rows: &mut Vec<Row>) {
    let counter = Arc::new(Counter(AtomicUsize::new(0)));
    let w = futures::task::waker(counter.clone());
    clone_drop_and_wake(cfg, rows, "futures", &w, true);
    check(cfg, "futures", counter.0.load(Ordering::Relaxed) > 0, "ArcWake never woken");

    let std_counter = Arc::new(StdCounter(AtomicUsize::new(0)));
    let sw = Waker::from(std_counter.clone());
    clone_drop_and_wake(cfg, rows, "std", &sw, true);
    check(cfg, "std", std_counter.0.load(Ordering::Relaxed) > 0, "Wake never woken");

    // SAFETY: STATIC_VTABLE keeps RawWaker's contract: every entry ignores the
    // (null) data pointer and is safe from any thread.
    let st = unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), &STATIC_VTABLE)) };
    wake_loop(cfg, rows, "BM_waker_wake_by_ref_static", "std", &st);
    check(cfg, "std", FLAG.load(Ordering::Relaxed), "static waker never woken");

    // The waker-fn crate: Arc<F> behind a generated vtable.
    let fw = waker_fn::waker_fn(|| {
        FN_HITS.fetch_add(1, Ordering::Relaxed);
    });
    wake_loop(cfg, rows, "BM_waker_fn_wake", "waker-fn", &fw);
    check(cfg, "waker-fn", FN_HITS.load(Ordering::Relaxed) > 0, "waker_fn never woken");

    // Floor: futures' noop waker (a static vtable whose entries do nothing).
    let noop = futures::task::noop_waker();
    clone_drop_and_wake(cfg, rows, "noop", &noop, false);
    wake_loop(cfg, rows, "BM_waker_wake_by_ref_static", "noop", &noop);
}

fn clone_drop_and_wake(cfg: &Config, rows: &mut Vec<Row>, peer: &'static str, w: &Waker,
                       arc_row: bool) {
    measure(cfg, "BM_waker_clone_drop", peer, rows, |n| {
        for _ in 0..n {
            do_not_optimize(w);
            let c = w.clone();
            do_not_optimize(&c);
            drop(c);
        }
        n
    });
    if arc_row {
        wake_loop(cfg, rows, "BM_waker_wake_by_ref_arc", peer, w);
    }
}

fn wake_loop(cfg: &Config, rows: &mut Vec<Row>, name: &str, peer: &'static str, w: &Waker) {
    measure(cfg, name, peer, rows, |n| {
        for _ in 0..n {
            do_not_optimize(w);
            w.wake_by_ref();
        }
        n
    });
}

fn block_on_rows<B: Fn(futures::future::Ready<u64>) -> u64, Y: Fn(YieldOnce)>(
    cfg: &Config, rows: &mut Vec<Row>, peer: &'static str, ready: B, yield_once: Y) {
    measure(cfg, "BM_block_on_ready", peer, rows, |n| {
        let mut sum = 0u64;
        for i in 0..n {
            sum += ready(futures::future::ready(opaque(i)));
        }
        do_not_optimize(&sum);
        n
    });
    measure(cfg, "BM_block_on_yield", peer, rows, |n| {
        for _ in 0..n {
            yield_once(YieldOnce(false));
        }
        n
    });
}

fn block_on(cfg: &Config, rows: &mut Vec<Row>) {
    block_on_rows(cfg, rows, "futures", futures::executor::block_on, futures::executor::block_on);
    block_on_rows(cfg, rows, "futures-lite", futures_lite::future::block_on,
                  futures_lite::future::block_on);
    if cfg.peer.as_deref().map_or(true, |p| p == "tokio") {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        block_on_rows(cfg, rows, "tokio", |f| rt.block_on(f), |f| rt.block_on(f));
    }
}

// ---------------------------------------------------------------- local pools

const ROUND: u64 = 1000; // tasks per round (localpool_spawn_run, threadpool_spawn)
const BIG_ROUND: u64 = 10000; // tasks per round of the /round:10000 variant
const PINGPONG_K: u64 = 1000; // yields per task (localpool_yield_pingpong)

fn yielder(k: u64) -> impl Future<Output = ()> {
    async move {
        for _ in 0..k {
            YieldOnce(false).await;
        }
    }
}

// LocalExec: a single-thread executor as its users run it: spawn, then run
// until every task has finished.
trait LocalExec: Sized {
    const PEER: &'static str;
    fn make() -> Self;
    fn spawn<F: Future<Output = ()> + 'static>(&self, f: F);
    fn run(&mut self);
    // renew: a new pool (the /new_pool variant); what a user would rebuild.
    fn renew(&mut self) {
        *self = Self::make();
    }
}

struct FuturesLocal {
    pool: futures::executor::LocalPool,
    spawner: futures::executor::LocalSpawner,
}
impl LocalExec for FuturesLocal {
    const PEER: &'static str = "futures";
    fn make() -> Self {
        let pool = futures::executor::LocalPool::new();
        let spawner = pool.spawner();
        FuturesLocal { pool, spawner }
    }
    fn spawn<F: Future<Output = ()> + 'static>(&self, f: F) {
        use futures::task::LocalSpawnExt;
        self.spawner.spawn_local(f).unwrap();
    }
    fn run(&mut self) {
        self.pool.run();
    }
}

// tokio: a current_thread runtime driving a LocalSet (its single-thread
// spawner); a new pool is a new LocalSet on the same runtime.
struct TokioLocal {
    rt: tokio::runtime::Runtime,
    local: tokio::task::LocalSet,
}
impl LocalExec for TokioLocal {
    const PEER: &'static str = "tokio";
    fn make() -> Self {
        TokioLocal {
            rt: tokio::runtime::Builder::new_current_thread().build().unwrap(),
            local: tokio::task::LocalSet::new(),
        }
    }
    fn spawn<F: Future<Output = ()> + 'static>(&self, f: F) {
        drop(self.local.spawn_local(f));
    }
    fn run(&mut self) {
        self.rt.block_on(&mut self.local); // completes when every task has finished
    }
    fn renew(&mut self) {
        self.local = tokio::task::LocalSet::new();
    }
}

// async-task: the executor the crate's documentation builds, a queue of
// Runnables; the schedule function pushes onto a thread-local queue (as the
// crate's spawn_local example does), run() pops and runs until it is empty.
thread_local! {
    static QUEUE: RefCell<VecDeque<async_task::Runnable>> = RefCell::new(VecDeque::new());
}
struct AsyncTaskQueue;
impl LocalExec for AsyncTaskQueue {
    const PEER: &'static str = "async-task";
    fn make() -> Self {
        QUEUE.with(|q| *q.borrow_mut() = VecDeque::new());
        AsyncTaskQueue
    }
    fn spawn<F: Future<Output = ()> + 'static>(&self, f: F) {
        let schedule = |r| QUEUE.with(|q| q.borrow_mut().push_back(r));
        let (runnable, task) = async_task::spawn_local(f, schedule);
        runnable.schedule();
        task.detach();
    }
    fn run(&mut self) {
        while let Some(r) = QUEUE.with(|q| q.borrow_mut().pop_front()) {
            r.run();
        }
    }
}

// async-executor: LocalExecutor, driven with try_tick until idle.
struct AsyncExecutorLocal(async_executor::LocalExecutor<'static>);
impl LocalExec for AsyncExecutorLocal {
    const PEER: &'static str = "async-executor";
    fn make() -> Self {
        AsyncExecutorLocal(async_executor::LocalExecutor::new())
    }
    fn spawn<F: Future<Output = ()> + 'static>(&self, f: F) {
        self.0.spawn(f).detach();
    }
    fn run(&mut self) {
        while self.0.try_tick() {}
    }
}

// The per-task work: one increment of a counter every task can reach (a
// &'static Cell, as pollwake's tasks capture a reference).
fn trivial(done: &'static Cell<u64>) -> impl Future<Output = ()> {
    async move { done.set(done.get() + 1) }
}

fn with_payload<const N: usize>(i: u64, done: &'static Cell<u64>) -> impl Future<Output = ()> {
    let p = [i; N];
    async move {
        do_not_optimize(&p);
        done.set(done.get() + 1)
    }
}

fn local_workloads<E: LocalExec>(cfg: &Config, rows: &mut Vec<Row>) {
    let peer = E::PEER;
    if !wanted(cfg, "BM_localpool", peer) && cfg.filter.is_none() {
        return;
    }
    let done: &'static Cell<u64> = Box::leak(Box::new(Cell::new(0)));
    let mut ex = E::make();
    measure(cfg, "BM_localpool_spawn_run", peer, rows, |n| {
        for _ in 0..n {
            for _ in 0..ROUND {
                ex.spawn(trivial(done));
            }
            ex.run();
        }
        n * ROUND
    });
    measure(cfg, "BM_localpool_spawn_run/round:10000", peer, rows, |n| {
        for _ in 0..n {
            for _ in 0..BIG_ROUND {
                ex.spawn(trivial(done));
            }
            ex.run();
        }
        n * BIG_ROUND
    });
    measure(cfg, "BM_localpool_spawn_run/new_pool", peer, rows, |n| {
        for _ in 0..n {
            ex.renew();
            for _ in 0..ROUND {
                ex.spawn(trivial(done));
            }
            ex.run();
        }
        n * ROUND
    });
    measure(cfg, "BM_localpool_spawn_run/mixed", peer, rows, |n| {
        for _ in 0..n {
            for i in 0..ROUND {
                match i % 4 {
                    0 => ex.spawn(trivial(done)),
                    1 => ex.spawn(with_payload::<4>(i, done)),
                    2 => ex.spawn(with_payload::<16>(i, done)),
                    _ => ex.spawn(with_payload::<64>(i, done)),
                }
            }
            ex.run();
        }
        n * ROUND
    });
    measure(cfg, "BM_localpool_spawn_run/clone_waker", peer, rows, |n| {
        for _ in 0..n {
            for _ in 0..ROUND {
                ex.spawn(futures::future::poll_fn(move |cx| {
                    let w = cx.waker().clone();
                    do_not_optimize(&w);
                    drop(w);
                    done.set(done.get() + 1);
                    Poll::Ready(())
                }));
            }
            ex.run();
        }
        n * ROUND
    });
    check(cfg, peer, done.get() > 0, "no task ran");
    measure(cfg, "BM_localpool_yield_pingpong", peer, rows, |n| {
        for _ in 0..n {
            ex.spawn(yielder(PINGPONG_K));
            ex.spawn(yielder(PINGPONG_K));
            ex.run();
        }
        n * 2 * PINGPONG_K
    });
}

// ---------------------------------------------------------------- threads

// futex_wait / futex_wake: the Linux futex calls, as pollwake's Latch makes
// them (std's thread::park is the same system call).
fn futex_wait(word: &AtomicU32, expected: u32) {
    // SAFETY: FUTEX_WAIT reads the word at this address; it stays alive for
    // the call.
    unsafe {
        libc::syscall(libc::SYS_futex, word as *const AtomicU32 as *const u32,
                      libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG, expected,
                      std::ptr::null::<libc::timespec>(), std::ptr::null::<u32>(), 0);
    }
}
fn futex_wake(word: &AtomicU32) {
    // SAFETY: FUTEX_WAKE only uses the address as a key.
    unsafe {
        libc::syscall(libc::SYS_futex, word as *const AtomicU32 as *const u32,
                      libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG, 1,
                      std::ptr::null::<libc::timespec>(), std::ptr::null::<u32>(), 0);
    }
}

// Latch: counted down by each task; the main thread sleeps on the futex
// until it reaches 0. The same word and calls as bench_util.h's Latch.
struct Latch {
    count: AtomicU32,
}
impl Latch {
    fn count_down(&self) {
        if self.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            futex_wake(&self.count);
        }
    }
    fn wait(&self) {
        loop {
            let v = self.count.load(Ordering::Acquire);
            if v == 0 {
                break;
            }
            futex_wait(&self.count, v);
        }
    }
}

// LatchRef: what each task holds, a plain pointer (pollwake's tasks hold a
// Latch*; no reference count is touched per task).
#[derive(Clone, Copy)]
struct LatchRef(*const Latch);
// SAFETY: the Latch is only used through atomics, and it outlives every
// task: the main thread waits for the count to reach 0 before it drops the
// latch, and a task touches the latch last in count_down.
unsafe impl Send for LatchRef {}
unsafe impl Sync for LatchRef {}
impl LatchRef {
    fn count_down(self) {
        // SAFETY: see the Send impl.
        unsafe { (*self.0).count_down() }
    }
}

fn spawn_rounds(n: u64, spawn: impl Fn(LatchRef)) -> u64 {
    for _ in 0..n {
        let latch = Latch { count: AtomicU32::new(ROUND as u32) };
        let r = LatchRef(&latch);
        for _ in 0..ROUND {
            spawn(r);
        }
        latch.wait();
    }
    n * ROUND
}

fn threadpool(cfg: &Config, rows: &mut Vec<Row>) {
    if wanted(cfg, "BM_threadpool_spawn", "futures") {
        let pool = futures::executor::ThreadPool::builder().pool_size(2).create().unwrap();
        measure(cfg, "BM_threadpool_spawn", "futures", rows, |n| {
            spawn_rounds(n, |l| pool.spawn_ok(async move { l.count_down() }))
        });
    }
    if wanted(cfg, "BM_threadpool_spawn", "tokio") {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
        measure(cfg, "BM_threadpool_spawn", "tokio", rows, |n| {
            spawn_rounds(n, |l| drop(rt.spawn(async move { l.count_down() })))
        });
    }
    if wanted(cfg, "BM_threadpool_spawn", "async-executor") {
        // Two threads each run the executor until their stop signal, as the
        // crate's documentation sets it up.
        let ex: &'static async_executor::Executor<'static> =
            Box::leak(Box::new(async_executor::Executor::new()));
        let mut stops = Vec::new();
        let mut workers = Vec::new();
        for _ in 0..2 {
            let (tx, rx) = futures::channel::oneshot::channel::<()>();
            stops.push(tx);
            workers.push(std::thread::spawn(move || {
                let _ = futures_lite::future::block_on(ex.run(rx));
            }));
        }
        measure(cfg, "BM_threadpool_spawn", "async-executor", rows, |n| {
            spawn_rounds(n, |l| ex.spawn(async move { l.count_down() }).detach())
        });
        drop(stops);
        for w in workers {
            w.join().unwrap();
        }
    }
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
        let span = Span::start();
        for (i, (tx, rx)) in ping_tx.into_iter().zip(reply_rx).enumerate() {
            tx.send(i as u64).unwrap();
            assert_eq!(futures::executor::block_on(rx).unwrap(), i as u64 + 1);
        }
        let mut t = span.stop();
        t.ops = n;
        helper.join().unwrap();
        t
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
        let span = Span::start();
        for (i, (tx, rx)) in ping_tx.into_iter().zip(reply_rx).enumerate() {
            tx.send(i as u64).unwrap();
            assert_eq!(rt.block_on(rx).unwrap(), i as u64 + 1);
        }
        let mut t = span.stop();
        t.ops = n;
        helper.join().unwrap();
        t
    });
}

fn json_num(x: f64) -> String {
    if x.is_finite() { format!("{:.4}", x) } else { "null".to_string() }
}

fn main() {
    let mut cfg = Config { smoke: false, min_time: 0.2, reps: 5, filter: None, peer: None,
                           iters: None };
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
            "--peer" => {
                i += 1;
                cfg.peer = Some(args[i].clone());
            }
            "--iters" => {
                i += 1;
                cfg.iters = Some(args[i].parse().expect("--iters N"));
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
            block_on(&cfg, &mut rows);
            local_workloads::<FuturesLocal>(&cfg, &mut rows);
            local_workloads::<TokioLocal>(&cfg, &mut rows);
            local_workloads::<AsyncTaskQueue>(&cfg, &mut rows);
            local_workloads::<AsyncExecutorLocal>(&cfg, &mut rows);
        }
        "threaded" => {
            threadpool(&cfg, &mut rows);
            cross_thread(&cfg, &mut rows);
        }
        g => panic!("unknown group {}", g),
    }
    // Reported so that the runner can check that the single group ran in a
    // process with one thread; this binary also fails by itself below.
    let threads = threads_in_process();
    println!("{{");
    println!("  \"context\": {{\"executable\": \"pollwake-peers\", \"group\": \"{}\", \"smoke\": {}, \"threads_at_end\": {}}},",
             group, cfg.smoke, threads);
    println!("  \"benchmarks\": [");
    for (k, r) in rows.iter().enumerate() {
        println!("    {{\"name\": \"{}\", \"peer\": \"{}\", \"ns_per_op\": {}, \"cpu_ns_per_op\": {}, \"allocs_per_op\": {}, \"iterations\": {}, \"ops_per_run\": {}, \"repetitions\": {}}}{}",
                 r.name, r.peer, json_num(r.ns_per_op), json_num(r.cpu_ns_per_op),
                 json_num(r.allocs_per_op), r.iterations, r.ops, r.reps,
                 if k + 1 < rows.len() { "," } else { "" });
    }
    println!("  ]");
    println!("}}");
    if group == "single" && (threads != 1 || !libc_single_threaded()) {
        eprintln!("pollwake-peers: {} threads at exit, __libc_single_threaded={}; the single group \
                   must start none", threads, libc_single_threaded() as u8);
        std::process::exit(1);
    }
}
