//! Twin of examples/01_trivial.cc: the `trivial()` async fn as real Rust,
//! polled by hand with a printing waker. rustc writes the state machine that
//! the C++ example writes by hand, so this program cannot print the machine's
//! own lines (`TrivialFuture::poll: ...`); everything else it prints the same.
//!
//!   cd tests/oracles/rust && /usr/bin/cargo run -q --bin ex01_trivial

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use pollwake_oracles::{catch_panic, printing_waker, trace, Task};

#[derive(Default)]
struct EventSlot {
    value: Option<u32>,
    waker: Option<Waker>,
}

thread_local! {
    static EVENT: RefCell<EventSlot> = RefCell::new(EventSlot::default());
}

struct EventFuture;

impl Future for EventFuture {
    type Output = u32;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        EVENT.with(|slot| {
            let mut slot = slot.borrow_mut();
            if let Some(v) = slot.value {
                trace("EventFuture::poll -> Ready (the event has fired)");
                return Poll::Ready(v);
            }
            match &mut slot.waker {
                Some(w) if w.will_wake(cx.waker()) => {}
                w => *w = Some(cx.waker().clone()),
            }
            trace("EventFuture::poll -> Pending (waker stored)");
            Poll::Pending
        })
    }
}

// Says when it is dropped: rustc drops an awaited future as soon as its
// `.await` completes, before the statement after it runs.
impl Drop for EventFuture {
    fn drop(&mut self) {
        trace("drop EventFuture");
    }
}

fn event() -> EventFuture {
    EventFuture
}

fn fire_event(value: u32) {
    let waker = EVENT.with(|slot| {
        let mut slot = slot.borrow_mut();
        slot.value = Some(value);
        slot.waker.take()
    });
    if let Some(w) = waker {
        w.wake();
    }
}

async fn trivial() -> u32 {
    println!("Hello!"); // line 1
    let e = event(); // line 2
    let value = e.await; // line 3
    println!("Got: {}", value); // line 4
    return value * 2; // line 5
}

static TASK: Task = Task::new("trivial");

fn main() {
    let waker = printing_waker(&TASK);

    let fut = trivial();
    futures::pin_mut!(fut);
    trace("main: trivial() returned; nothing has run, nothing printed");

    let mut cx = Context::from_waker(&waker);
    trace("main: first poll");
    let p = fut.as_mut().poll(&mut cx);
    trace(if p.is_pending() {
        "main: Pending, so main fires the event with 21"
    } else {
        "main: unexpected Ready"
    });

    trace("main: fire_event(21) wakes the stored waker");
    fire_event(21);

    trace("main: woken, so main polls again");
    if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
        trace(&format!("main: Ready({})", v));
    }

    trace("main: polling a finished future is a bug; pollwake throws");
    if let Err(msg) = catch_panic(|| fut.as_mut().poll(&mut cx)) {
        trace(&format!("main: caught: {}", msg));
    }
    trace("main: end; main's own waker is dropped");
}
