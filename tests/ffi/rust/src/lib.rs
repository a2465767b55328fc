//! The Rust plugin: async functions exported through the real async-ffi
//! crate, for pollwake's C++ host and C executor to await.
//!
//! - `plugin_run(a, b)`: completes a few milliseconds after its first poll,
//!   woken from a thread of its own, with `a + b` (the same contract as
//!   pollwake's C++ plugin and the crate's own link tests).
//! - `plugin_fail(a, b)`: panics on its first poll; the crate turns that
//!   into `FfiPoll::Panicked`.
//! - `plugin_ready_u64`, `plugin_ready_unit`, `plugin_ready_ptr`: the other
//!   payloads pollwake ships, ready at once.
//! - `plugin_layout(which)`: `size_of`/offsets rustc gives the crate's types.
use std::mem::size_of;
use std::thread;
use std::time::Duration;

use async_ffi::{FfiContext, FfiFuture, FfiPoll, FutureExt, LocalFfiFuture};
use futures::channel::oneshot;

// [START rust_plugin_run]
#[no_mangle]
pub extern "C" fn plugin_run(a: u32, b: u32) -> FfiFuture<u32> {
    async move {
        let (tx, rx) = oneshot::channel::<u32>();
        // The wake comes from this thread (the waker was stored by the poll
        // of `rx` that returned Pending, or the value is there already).
        let helper = thread::spawn(move || {
            thread::sleep(Duration::from_millis(3));
            let _ = tx.send(a.wrapping_add(b));
        });
        let sum = rx.await.expect("the helper thread sends");
        helper.join().expect("the helper thread does not panic");
        sum
    }
    .into_ffi()
}
// [END rust_plugin_run]

#[no_mangle]
pub extern "C" fn plugin_fail(a: u32, b: u32) -> FfiFuture<u32> {
    async move {
        if a != u32::MAX {
            panic!("plugin_fail({}, {}): this future always panics", a, b);
        }
        0
    }
    .into_ffi()
}

#[no_mangle]
pub extern "C" fn plugin_ready_u64(v: u64) -> FfiFuture<u64> {
    async move { v }.into_ffi()
}

#[no_mangle]
pub extern "C" fn plugin_ready_unit() -> FfiFuture<()> {
    async {}.into_ffi()
}

#[no_mangle]
pub extern "C" fn plugin_ready_ptr(p: *mut ()) -> LocalFfiFuture<*mut ()> {
    async move { p }.into_local_ffi()
}

/// Sizes and offsets, numbered as tests/ffi/layout_c.c numbers them.
#[no_mangle]
pub extern "C" fn plugin_layout(which: u32) -> usize {
    fn payload_offset<T>(ready: T) -> usize {
        let p = FfiPoll::Ready(ready);
        let base = &p as *const FfiPoll<T> as usize;
        match &p {
            FfiPoll::Ready(v) => v as *const T as usize - base,
            _ => unreachable!(),
        }
    }
    match which {
        // 0, 1 and 11 (FfiWakerVTable, FfiWakerBase, the offset of drop_fn)
        // are private to the crate: not observable from here.
        2 => size_of::<FfiContext>(),
        3 => size_of::<FfiPoll<u32>>(),
        4 => payload_offset(7u32),
        5 => size_of::<FfiPoll<u64>>(),
        6 => payload_offset(7u64),
        7 => size_of::<FfiPoll<*mut ()>>(),
        8 => payload_offset(std::ptr::null_mut::<()>()),
        9 => size_of::<FfiPoll<()>>(),
        10 => size_of::<FfiFuture<u32>>(),
        // The tag values: the first byte of each variant.
        12 => {
            let p = FfiPoll::<u32>::Pending;
            unsafe { *(&p as *const FfiPoll<u32> as *const u8) as usize }
        }
        13 => {
            let p = FfiPoll::<u32>::Panicked;
            unsafe { *(&p as *const FfiPoll<u32> as *const u8) as usize }
        }
        14 => {
            let p = FfiPoll::Ready(0u32);
            unsafe { *(&p as *const FfiPoll<u32> as *const u8) as usize }
        }
        _ => usize::MAX,
    }
}
