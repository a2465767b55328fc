//! tests/oracles/four/rust/src/bin/four.rs: the five programs in Rust
//! (futures 0.3). Each section prints a trace; four.expected holds it.
//! The C++ twin is tests/oracles/four/twins/rust_twin.cc.

use futures::channel::oneshot;
use futures::executor::{block_on, LocalPool};
use futures::future::{self, join3, try_join3};
use futures::task::{noop_waker, LocalSpawnExt};
use std::future::Future;
use std::task::{Context, Poll};

fn p(s: &str) {
    println!("{}", s);
}

/// Prints `<name>: dropped unfinished` if dropped while still armed.
struct Unfinished(&'static str, bool);
impl Drop for Unfinished {
    fn drop(&mut self) {
        if self.1 {
            p(&format!("{}: dropped unfinished", self.0));
        }
    }
}

// 1. Order of effects around a call that is not awaited at once.
// [START f]
async fn f() -> i32 {
    p("f: start");
    future::ready(()).await;
    p("f: after await");
    1
}
// [END f]

fn one() {
    p("== 1 unawaited call");
    block_on(async {
        p("main: call f");
        let t = f();
        p("main: f returned");
        p("main: await");
        let v = t.await;
        p(&format!("main: got {}", v));
    });
}

// 2. Fan out three waits and join them; the events fire in the order B, C, A.
async fn op(name: &'static str, ev: oneshot::Receiver<()>) -> &'static str {
    p(&format!("{}: start", name));
    ev.await.unwrap();
    p(&format!("{}: done", name));
    name
}

fn two() {
    p("== 2 fan out and join");
    let mut pool = LocalPool::new();
    let (ta, ra) = oneshot::channel();
    let (tb, rb) = oneshot::channel();
    let (tc, rc) = oneshot::channel();
    p("main: start ops");
    pool.spawner()
        .spawn_local(async move {
            let (a, b, c) = join3(op("A", ra), op("B", rb), op("C", rc)).await;
            p(&format!("main: joined {} {} {}", a, b, c));
        })
        .unwrap();
    p("main: run the loop");
    pool.run_until_stalled();
    p("main: fire B");
    tb.send(()).unwrap();
    p("main: fire C");
    tc.send(()).unwrap();
    p("main: fire A");
    ta.send(()).unwrap();
    p("main: run the loop");
    pool.run_until_stalled();
}

// 3. Cancel a pending operation: Rust cancels by dropping the future.
// [START cancel]
async fn cancellable(ev: oneshot::Receiver<()>) -> i32 {
    let mut guard = Unfinished("op", true);
    p("op: start");
    let _ = ev.await;
    p("op: after await");
    guard.1 = false;
    1
}
// [END cancel]

fn three() {
    p("== 3 cancel");
    let (tx, rx) = oneshot::channel::<()>();
    p("main: start op");
    let mut fut = Box::pin(cancellable(rx));
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    if let Poll::Pending = fut.as_mut().poll(&mut cx) {
        p("main: op pending");
    }
    p("main: cancel (drop the future)");
    drop(fut);
    p("main: cancel returned");
    p(&format!("main: sender sees cancellation: {}", tx.is_canceled()));
}

// 4. One of three concurrent operations fails (Rust: an Err, joined with
// try_join3); B's event fires first, then A's and C's.
async fn may_fail(name: &'static str, ev: oneshot::Receiver<()>, fail: bool) -> Result<&'static str, String> {
    let mut guard = Unfinished(name, true);
    p(&format!("{}: start", name));
    ev.await.unwrap();
    guard.1 = false;
    if fail {
        p(&format!("{}: fails", name));
        return Err(format!("{} failed", name));
    }
    p(&format!("{}: done", name));
    Ok(name)
}

fn four() {
    p("== 4 one of three fails");
    let mut pool = LocalPool::new();
    let (ta, ra) = oneshot::channel();
    let (tb, rb) = oneshot::channel();
    let (tc, rc) = oneshot::channel();
    p("main: start ops");
    pool.spawner()
        .spawn_local(async move {
            let r = try_join3(may_fail("A", ra, false), may_fail("B", rb, true), may_fail("C", rc, false)).await;
            match r {
                Ok(_) => p("main: all succeeded"),
                Err(e) => p(&format!("main: error: {}", e)),
            }
        })
        .unwrap();
    p("main: run the loop");
    pool.run_until_stalled();
    p("main: fire B");
    tb.send(()).unwrap();
    p("main: run the loop");
    pool.run_until_stalled();
    for (name, tx) in [("A", ta), ("C", tc)] {
        match tx.send(()) {
            Ok(()) => p(&format!("main: fire {}", name)),
            Err(()) => p(&format!("main: fire {}: nobody is waiting", name)),
        }
    }
}

// 5. CPU-bound work inside an async function: who is blocked.
fn spin() -> u64 {
    let mut x: u64 = 1;
    for i in 0..2_000_000u64 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(i);
    }
    x
}

async fn busy() {
    p("busy: start");
    if spin() == 0 {
        p("busy: (unlikely)");
    }
    p("busy: end");
}

fn five() {
    p("== 5 CPU-bound work");
    let mut pool = LocalPool::new();
    p("main: spawn busy, then tick");
    pool.spawner().spawn_local(busy()).unwrap();
    pool.spawner().spawn_local(async { p("tick: runs") }).unwrap();
    p("main: run the loop");
    pool.run();
    p("main: loop finished");
}

fn main() {
    one();
    two();
    three();
    four();
    five();
}
