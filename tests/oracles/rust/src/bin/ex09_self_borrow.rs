//! Companion of examples/09_self_borrow.cc (not a trace twin: the C++
//! example's lesson is a move that does not compile). It compiles the
//! `async fn` that 09 rewrites, prints the size of its future, and runs it.
//!
//!   cd tests/oracles/rust && /usr/bin/cargo run -q --bin ex09_self_borrow

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pollwake_oracles::{printing_waker, trace, Task};

/// Pending once (after waking its own waker), then Ready(()).
struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

// [START async_fn]
async fn self_borrow() -> u32 {
    let data = [1u8, 2, 3, 4]; // line 1
    let view: &[u8] = &data[1..]; // line 2: borrows `data`
    yield_now().await; // line 3: `data` and `view` live across it
    view.iter().map(|&x| x as u32).sum() // line 4: 2 + 3 + 4
}
// [END async_fn]

static TASK: Task = Task::new("self_borrow");

fn main() {
    let waker = printing_waker(&TASK);
    let mut cx = Context::from_waker(&waker);
    let fut = self_borrow();
    trace(&format!("main: sizeof(SelfBorrowFuture) = {} bytes", std::mem::size_of_val(&fut)));
    // Moving `fut` is fine here: it has not been pinned or polled yet.
    let mut fut = Box::pin(fut);
    let mut n = 1;
    loop {
        trace(&format!("main: poll #{}", n));
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            trace(&format!("main: Ready({})", v));
            break;
        }
        // `let moved = *fut;` would not compile: the future is behind Pin,
        // and an `async fn`'s future is not Unpin.
        n += 1;
    }
}
