//! Twin of examples/05_loop_await.cc: a loop that awaits on every turn.
//!
//!   cd tests/oracles/rust && /usr/bin/cargo run -q --bin ex05_loop_await

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pollwake_oracles::{catch_panic, printing_waker, trace, Task};

/// Pending once (after waking its own waker), then Ready(n * 10).
struct Tick {
    n: u32,
    yielded: bool,
}

impl Future for Tick {
    type Output = u32;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        if !self.yielded {
            self.yielded = true;
            cx.waker().wake_by_ref();
            trace(&format!("Tick({})::poll -> Pending (woke its own waker)", self.n));
            return Poll::Pending;
        }
        trace(&format!("Tick({})::poll -> Ready({})", self.n, self.n * 10));
        Poll::Ready(self.n * 10)
    }
}

// Says when it is dropped: rustc drops `tick(i)` as soon as its `.await`
// completes, before line 4 runs.
impl Drop for Tick {
    fn drop(&mut self) {
        trace(&format!("drop Tick({})", self.n));
    }
}

fn tick(n: u32) -> Tick {
    Tick { n, yielded: false }
}

// [START async_fn]
async fn loop_await() -> u32 {
    let mut total = 0; // line 1
    for i in 1..4 { // line 2
        let v = tick(i).await; // line 3
        total += v; // line 4
        trace(&format!("body: turn {}: got {}, total {}", i, v, total)); // line 5
    }
    total // line 6
}
// [END async_fn]

static TASK: Task = Task::new("loop_await");

fn main() {
    let waker = printing_waker(&TASK);

    let fut = loop_await();
    trace("main: loop_await() returned; nothing has run");
    trace(&format!("main: sizeof(LoopAwaitFuture) = {} bytes", std::mem::size_of_val(&fut)));
    futures::pin_mut!(fut);

    let mut cx = Context::from_waker(&waker);
    let mut n = 1;
    loop {
        trace(&format!("main: poll #{}", n));
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            trace(&format!("main: Ready({})", v));
            break;
        }
        if !TASK.take_woken() {
            trace("main: Pending and not woken; giving up");
            std::process::exit(1);
        }
        trace("main: Pending, but woken, so main polls again");
        n += 1;
    }

    if let Err(msg) = catch_panic(|| fut.as_mut().poll(&mut cx)) {
        trace(&format!("main: poll #5 caught: {}", msg));
    }
    trace("main: end; main's own waker is dropped");
}
