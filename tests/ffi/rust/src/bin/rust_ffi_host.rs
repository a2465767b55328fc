//! The Rust host: the real async-ffi crate and futures::executor await the
//! futures that pollwake's C++ plugin exports.
//!
//!   rust_ffi_host PLUGIN ROUNDS
//!
//! Loads PLUGIN with dlopen, then awaits `plugin_run(i, 1000)` ROUNDS times
//! under `futures::executor::block_on` and ROUNDS more at once under one
//! `LocalPool` (each completes from a wake on a C++ thread), then awaits
//! `plugin_fail`, whose C++ exception reaches this side as the crate's
//! Panicked: the crate's `Future::poll` panics with "FFI future panicked".
//! Exit status 2: PLUGIN or a symbol is missing; 4: no progress in 30 s (a
//! lost wake); 1: a wrong answer.
use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_void};
use std::panic;
use std::process::exit;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use async_ffi::FfiFuture;
use futures::executor::{block_on, LocalPool};
use futures::task::LocalSpawnExt;

const RTLD_NOW: c_int = 2;

#[link(name = "dl")]
extern "C" {
    fn dlopen(filename: *const c_char, flag: c_int) -> *mut c_void;
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    fn dlerror() -> *const c_char;
}

type PluginFn = unsafe extern "C" fn(u32, u32) -> FfiFuture<u32>;

fn symbol(lib: *mut c_void, path: &str, name: &str) -> PluginFn {
    let cname = CString::new(name).unwrap();
    let p = unsafe { dlsym(lib, cname.as_ptr()) };
    if p.is_null() {
        eprintln!("rust_ffi_host: plugin '{}' has no symbol '{}'", path, name);
        exit(2);
    }
    // SAFETY: the plugin's contract gives the symbol this signature.
    unsafe { std::mem::transmute::<*mut c_void, PluginFn>(p) }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: {} PLUGIN ROUNDS", args[0]);
        exit(2);
    }
    let path = &args[1];
    let rounds: u32 = args[2].parse().expect("ROUNDS is a number");
    let cpath = CString::new(path.as_str()).unwrap();
    let lib = unsafe { dlopen(cpath.as_ptr(), RTLD_NOW) };
    if lib.is_null() {
        let why = unsafe { CStr::from_ptr(dlerror()) }.to_string_lossy().into_owned();
        eprintln!("rust_ffi_host: cannot load plugin '{}': {}", path, why);
        exit(2);
    }
    let run = symbol(lib, path, "plugin_run");
    let fail = symbol(lib, path, "plugin_fail");

    // Watchdog: a lost wake leaves block_on asleep forever; fail instead.
    let done = Arc::new(AtomicBool::new(false));
    {
        let done = done.clone();
        thread::spawn(move || {
            for _ in 0..300 {
                thread::sleep(Duration::from_millis(100));
                if done.load(Ordering::Acquire) {
                    return;
                }
            }
            eprintln!("rust_ffi_host: no progress in 30 s: a lost wake");
            exit(4);
        });
    }

    for i in 0..rounds {
        let got = block_on(unsafe { run(i, 1000) });
        if got != i + 1000 {
            eprintln!("rust_ffi_host: plugin_run({}, 1000) = {}", i, got);
            exit(1);
        }
    }
    println!("block_on: {} rounds of plugin_run", rounds);

    let mut pool = LocalPool::new();
    let spawner = pool.spawner();
    let mut handles = Vec::new();
    for i in 0..rounds {
        let fut = unsafe { run(i, i) };
        handles.push(spawner.spawn_local_with_handle(fut).expect("spawn"));
    }
    let sums = pool.run_until(futures::future::join_all(handles));
    for (i, s) in sums.iter().enumerate() {
        if *s != 2 * i as u32 {
            eprintln!("rust_ffi_host: LocalPool plugin_run({0}, {0}) = {1}", i, s);
            exit(1);
        }
    }
    println!("LocalPool: {} concurrent plugin_run", rounds);

    // The C++ exception arrives as FfiPoll::Panicked; the crate panics.
    panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        println!("panic hook: {}", msg);
    }));
    let caught = panic::catch_unwind(|| block_on(unsafe { fail(1, 2) }));
    match caught {
        Ok(v) => {
            eprintln!("rust_ffi_host: plugin_fail returned {}", v);
            exit(1);
        }
        Err(_) => println!("plugin_fail: panicked as the crate does"),
    }
    done.store(true, Ordering::Release);
}
