//! Twin of examples/07_early_return.cc: `?` after an await, and a drop that
//! cancels a suspended `async fn`.
//!
//!   cd tests/oracles/rust && /usr/bin/cargo run -q --bin ex07_early_return

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pollwake_oracles::{catch_panic, printing_waker, trace, Task};

#[derive(Debug)]
enum FetchError {
    NotFound(u32),
}

/// Pending once (after waking its own waker), then Ok(key * 10), or
/// Err(NotFound(0)) for key 0; for key 13 its second poll panics.
struct Fetch {
    key: u32,
    yielded: bool,
}

impl Future for Fetch {
    type Output = Result<u32, FetchError>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if !self.yielded {
            self.yielded = true;
            cx.waker().wake_by_ref();
            trace(&format!("fetch({})::poll -> Pending (woke its own waker)", self.key));
            return Poll::Pending;
        }
        if self.key == 13 {
            trace("fetch(13)::poll panics");
            panic!("fetch(13): connection lost");
        }
        let r = if self.key == 0 { Err(FetchError::NotFound(self.key)) } else { Ok(self.key * 10) };
        trace(&format!("fetch({})::poll -> Ready({:?})", self.key, r));
        Poll::Ready(r)
    }
}

// Says when it is dropped: as soon as its `.await` completes (before `?`
// looks at the result), or with the suspended `async fn` that holds it.
impl Drop for Fetch {
    fn drop(&mut self) {
        trace(&format!("drop fetch({})", self.key));
    }
}

fn fetch(key: u32) -> Fetch {
    Fetch { key, yielded: false }
}

struct Guard {
    first: u32,
    second: u32,
}

impl Guard {
    fn new(first: u32, second: u32) -> Guard {
        Guard { first, second }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        trace(&format!("drop _guard of early_return({}, {})", self.first, self.second));
    }
}

// [START async_fn]
async fn early_return(first: u32, second: u32) -> Result<u32, FetchError> {
    let _guard = Guard::new(first, second); // line 1
    let a = fetch(first).await?; // line 2
    trace(&format!("body: a = {}", a)); // line 3
    let b = fetch(second).await?; // line 4
    trace(&format!("body: b = {}", b)); // line 5
    Ok(a + b) // line 6
}
// [END async_fn]

static TASK: Task = Task::new("early_return");

fn drive<F: Future>(fut: Pin<&mut F>, cx: &mut Context<'_>, max_polls: u32) -> Option<F::Output> {
    let mut fut = fut;
    for n in 1..=max_polls {
        trace(&format!("main: poll #{}", n));
        if let Poll::Ready(v) = fut.as_mut().poll(cx) {
            return Some(v);
        }
        if !TASK.take_woken() {
            return None;
        }
        trace("main: Pending, but woken");
    }
    None
}

fn show(r: &Option<Result<u32, FetchError>>) -> String {
    match r {
        Some(r) => format!("{:?}", r),
        None => "none".to_string(),
    }
}

fn main() {
    let waker = printing_waker(&TASK);
    let mut cx = Context::from_waker(&waker);
    trace(&format!(
        "main: sizeof(EarlyReturnFuture) = {} bytes",
        std::mem::size_of_val(&early_return(0, 0))
    ));

    {
        let ok = early_return(1, 2);
        trace("main: early_return(1, 2) made; nothing has run");
        futures::pin_mut!(ok);
        let r = drive(ok, &mut cx, 10);
        trace(&format!("main: early_return(1, 2) = {}", show(&r)));
    }
    {
        let err = early_return(4, 0);
        trace("main: early_return(4, 0) made; fetch(0) will fail");
        futures::pin_mut!(err);
        let r = drive(err, &mut cx, 10);
        trace(&format!("main: early_return(4, 0) = {} (line 5 never ran)", show(&r)));
    }
    {
        let dropped = early_return(7, 8);
        trace("main: early_return(7, 8) made");
        futures::pin_mut!(dropped);
        let r = drive(dropped, &mut cx, 1);
        trace(&format!(
            "main: after 1 poll it is {}; main drops it",
            if r.is_some() { "ready" } else { "pending" }
        ));
    }
    {
        let broken = early_return(13, 1);
        trace("main: early_return(13, 1) made; fetch(13) will panic");
        futures::pin_mut!(broken);
        if let Err(msg) = catch_panic(|| drive(broken.as_mut(), &mut cx, 10)) {
            trace(&format!("main: caught: {}", msg));
        }
        trace("main: polls the poisoned future once more");
        if let Err(msg) = catch_panic(|| broken.as_mut().poll(&mut cx)) {
            trace(&format!("main: caught: {}", msg));
        }
    }
    trace("main: end; main's own waker is dropped");
}
