//! Twin of examples/08_select_timeout.cc: work raced against a timer with
//! `futures::future::select`; the loser is dropped.
//!
//! TimerFuture here is the async book's, shaped like pollwake's
//! (poll/timer.h): the thread starts at the first poll, waits on a condition
//! variable until the deadline or until the future is dropped, and wakes the
//! stored waker after unlocking; dropping the future cancels and joins it.
//!
//!   cd tests/oracles/rust && /usr/bin/cargo run -q --bin ex08_select_timeout

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use futures::future::{select, Either};
use pollwake_oracles::{printing_waker, trace, Task};

struct Work {
    pending_polls: i32, // -1: never ready
}

impl Work {
    fn ready_after(n: i32) -> Work {
        Work { pending_polls: n }
    }
    fn never() -> Work {
        Work { pending_polls: -1 }
    }
}

impl Future for Work {
    type Output = u32;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        if self.pending_polls < 0 {
            trace("work::poll -> Pending (never ready)");
            return Poll::Pending;
        }
        if self.pending_polls > 0 {
            self.pending_polls -= 1;
            cx.waker().wake_by_ref();
            trace("work::poll -> Pending (woke its own waker)");
            return Poll::Pending;
        }
        trace("work::poll -> Ready(7)");
        Poll::Ready(7)
    }
}

impl Drop for Work {
    fn drop(&mut self) {
        trace("drop work");
    }
}

#[derive(Default)]
struct Shared {
    completed: bool,
    canceled: bool,
    waker: Option<Waker>,
}

struct TimerFuture {
    deadline: Instant,
    shared: Option<Arc<(Mutex<Shared>, Condvar)>>,
    thread: Option<JoinHandle<()>>,
}

impl TimerFuture {
    fn new(d: Duration) -> TimerFuture {
        TimerFuture { deadline: Instant::now() + d, shared: None, thread: None }
    }
}

impl Future for TimerFuture {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let shared = match &self.shared {
            Some(s) => s.clone(),
            None => {
                if Instant::now() >= self.deadline {
                    return Poll::Ready(());
                }
                let shared = Arc::new((Mutex::new(Shared::default()), Condvar::new()));
                shared.0.lock().unwrap().waker = Some(cx.waker().clone());
                let (theirs, deadline) = (shared.clone(), self.deadline);
                self.thread = Some(std::thread::spawn(move || {
                    let (mu, cv) = &*theirs;
                    let mut g = mu.lock().unwrap();
                    while !g.canceled && Instant::now() < deadline {
                        let left = deadline.saturating_duration_since(Instant::now());
                        g = cv.wait_timeout(g, left).unwrap().0;
                    }
                    if g.canceled {
                        return;
                    }
                    g.completed = true;
                    let w = g.waker.take();
                    drop(g);
                    if let Some(w) = w {
                        w.wake();
                    }
                }));
                self.shared = Some(shared);
                return Poll::Pending;
            }
        };
        let mut g = shared.0.lock().unwrap();
        if g.completed {
            return Poll::Ready(());
        }
        match &g.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => g.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl Drop for TimerFuture {
    fn drop(&mut self) {
        if let (Some(shared), Some(thread)) = (&self.shared, self.thread.take()) {
            shared.0.lock().unwrap().canceled = true;
            shared.1.notify_one();
            thread.join().unwrap();
        }
    }
}

#[derive(Debug)]
struct Elapsed;

// [START async_fn]
async fn select_timeout(work: Work, limit: Duration) -> Result<u32, Elapsed> {
    let timer = TimerFuture::new(limit); // line 1
    match select(work, timer).await { // line 2
        Either::Left((v, _timer)) => { // line 3
            trace(&format!("body: work won with {}", v));
            Ok(v) // _timer dropped
        }
        Either::Right(((), _work)) => { // line 4
            trace("body: the timer won");
            Err(Elapsed) // _work dropped
        }
    }
}
// [END async_fn]

static TASK: Task = Task::new("select_timeout");

fn drive<F: Future>(fut: Pin<&mut F>, cx: &mut Context<'_>) -> Option<F::Output> {
    let mut fut = fut;
    let mut n = 1;
    loop {
        trace(&format!("main: poll #{}", n));
        if let Poll::Ready(v) = fut.as_mut().poll(cx) {
            return Some(v);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while !TASK.take_woken() {
            if Instant::now() > deadline {
                trace("main: no wake within 20 s: a lost wakeup");
                return None;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        trace("main: woken");
        n += 1;
    }
}

fn show(r: &Option<Result<u32, Elapsed>>) -> String {
    match r {
        Some(Ok(v)) => format!("Ok({})", v),
        Some(Err(e)) => format!("Err({:?})", e),
        None => "none".to_string(),
    }
}

fn main() {
    let waker = printing_waker(&TASK);
    let mut cx = Context::from_waker(&waker);
    {
        let fut = select_timeout(Work::ready_after(1), Duration::from_secs(10));
        trace(&format!("main: sizeof(SelectTimeoutFuture) = {} bytes", std::mem::size_of_val(&fut)));
        trace("main: run 1: work ready on its 2nd poll, limit 10 s");
        futures::pin_mut!(fut);
        let r = drive(fut, &mut cx);
        trace(&format!("main: run 1 = {}", show(&r)));
    }
    let ok;
    {
        let fut = select_timeout(Work::never(), Duration::from_millis(20));
        trace("main: run 2: work never ready, limit 20 ms");
        futures::pin_mut!(fut);
        let r = drive(fut, &mut cx);
        trace(&format!("main: run 2 = {}", show(&r)));
        ok = matches!(r, Some(Err(_)));
    }
    trace("main: end; main's own waker is dropped");
    if !ok {
        std::process::exit(1);
    }
}
