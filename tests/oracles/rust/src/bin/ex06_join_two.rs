//! Twin of examples/06_join_two.cc: two events joined with
//! `futures::future::join`, fired in the opposite order.
//!
//!   cd tests/oracles/rust && /usr/bin/cargo run -q --bin ex06_join_two

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use futures::future::join;
use pollwake_oracles::{printing_waker, trace, Task};

#[derive(Default)]
struct EventSlot {
    value: Option<u32>,
    waker: Option<Waker>,
}

thread_local! {
    static SLOTS: RefCell<[EventSlot; 2]> = RefCell::new(Default::default());
}

fn index(name: char) -> usize {
    (name as u8 - b'a') as usize
}

struct EventFuture {
    name: char,
}

impl Future for EventFuture {
    type Output = u32;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        let name = self.name;
        SLOTS.with(|slots| {
            let slot = &mut slots.borrow_mut()[index(name)];
            if let Some(v) = slot.value {
                trace(&format!("event({})::poll -> Ready({})", name, v));
                return Poll::Ready(v);
            }
            match &slot.waker {
                Some(w) if w.will_wake(cx.waker()) => {
                    trace(&format!("event({})::poll -> Pending (same waker, kept)", name));
                }
                _ => {
                    slot.waker = Some(cx.waker().clone());
                    trace(&format!("event({})::poll -> Pending (waker stored)", name));
                }
            }
            Poll::Pending
        })
    }
}

impl Drop for EventFuture {
    fn drop(&mut self) {
        trace(&format!("drop event({})", self.name));
    }
}

fn event(name: char) -> EventFuture {
    EventFuture { name }
}

fn fire(name: char, value: u32) {
    let waker = SLOTS.with(|slots| {
        let slot = &mut slots.borrow_mut()[index(name)];
        slot.value = Some(value);
        slot.waker.take()
    });
    if let Some(w) = waker {
        w.wake();
    }
}

// [START async_fn]
async fn join_two() -> u32 {
    let (a, b) = join(event('a'), event('b')).await; // line 1
    trace(&format!("body: a = {}, b = {}", a, b)); // line 2
    a + b // line 3
}
// [END async_fn]

static TASK: Task = Task::new("join_two");

fn main() {
    let waker = printing_waker(&TASK);
    let mut cx = Context::from_waker(&waker);
    trace(&format!("main: sizeof(JoinTwoFuture) = {} bytes", std::mem::size_of_val(&join_two())));

    let fut = join_two();
    trace("main: join_two() returned; nothing has run");
    futures::pin_mut!(fut);
    let fire_order = ['b', 'a'];
    let mut n = 1;
    loop {
        trace(&format!("main: poll #{}", n));
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            trace(&format!("main: Ready({})", v));
            break;
        }
        if n > 2 {
            trace("main: still Pending after both events fired; giving up");
            std::process::exit(1);
        }
        let name = fire_order[n - 1];
        trace(&format!("main: Pending; the outside world fires event {}", name));
        TASK.take_woken();
        fire(name, if name == 'a' { 1 } else { 2 });
        trace(&format!("main: woken: {}", if TASK.take_woken() { "yes" } else { "no" }));
        n += 1;
    }
    trace("main: end; main's own waker is dropped");
}
