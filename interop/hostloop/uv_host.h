// interop/hostloop/uv_host.h
//
// Models the glue of the ocaml-lwt-interop design (its Lwt_unix notification
// plus the callback that runs pending tasks) for a second host, libuv: a
// HostExecutor whose notify hook is `uv_async_send` and whose run_ready()
// runs in the uv_async_t callback, on the loop's thread; and uv_delay(), a
// Promise<Unit> that a uv_timer_t resolves.
//
//   ocaml-lwt-interop                  pollwake + libuv
//   Lwt_unix.make_notification f       UvHost host(loop)  (uv_async_init)
//   lwt_unix_send_notification(id)     uv_async_send(&async)  (the notify hook)
//   f () = run pending tasks           async callback: executor().run_ready()
//   Lwt_unix.sleep d (as a Promise)    uv_delay(loop, ms) -> Promise<Unit>
//
// What the caller may rely on:
//   * UvHost is built, used and closed on the loop's thread. Its executor's
//     spawn() and wakers work from any thread (uv_async_send is the one libuv
//     call that is thread-safe, and it coalesces too).
//   * The async handle keeps the loop alive while the executor has
//     unfinished tasks (uv_ref after a pass that leaves some, uv_unref after
//     one that leaves none), so `uv_run(loop, UV_RUN_DEFAULT)` returns once
//     every task is done and the host has nothing else to do. A spawn from
//     another thread after the loop returned waits for the next uv_run.
//   * close() (also the destructor): executor().shutdown() first, so notify
//     is never called again and pending tasks are dropped (their Promise
//     cancel hooks run: a uv_delay stops its timer), then uv_close on the
//     async handle. As for every libuv handle, the memory is freed by the
//     close callback: run the loop once more (uv_run) after close().
//   * uv_delay(): the timer is started at once; the Promise resolves when it
//     fires. Dropping the Promise before that stops and closes the timer
//     (the cancel hook); it must be dropped on the loop's thread, which is
//     where HostExecutor drops its tasks.
#ifndef POLLWAKE_INTEROP_HOSTLOOP_UV_HOST_H_
#define POLLWAKE_INTEROP_HOSTLOOP_UV_HOST_H_

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <functional>

#include "interop/hostloop/host_executor.h"
#include "interop/hostloop/promise.h"

namespace pollwake::hostloop {

// Observers for tracing and tests (both optional): `on_notify` runs in the
// notify hook, on the waking thread, just before uv_async_send; `on_pass`
// runs on the loop's thread after each run_ready() with the number polled.
struct UvHostObservers {
  std::function<void()> on_notify;
  std::function<void(std::size_t polled)> on_pass;
};

class UvHost {
 public:
  explicit UvHost(uv_loop_t* loop, UvHostObservers observers = {});
  UvHost(const UvHost&) = delete;
  UvHost& operator=(const UvHost&) = delete;
  ~UvHost() { close(); }

  HostExecutor& executor() { return executor_; }
  // Spawns on the loop's thread and keeps the loop alive for the task.
  void spawn_local(LocalBoxFuture<Unit> future,
                   std::function<void(absl::Status)> on_done = nullptr);
  // How often the async callback ran run_ready() (loop thread only).
  std::uint64_t passes() const { return passes_; }
  void close();

 private:
  static void on_async(uv_async_t* handle);
  void refresh_ref();

  uv_loop_t* loop_;
  UvHostObservers observers_;
  uv_async_t* async_;  // heap: freed by its close callback
  HostExecutor executor_;
  std::uint64_t passes_ = 0;
};

// uv_delay: a Promise<Unit> that a uv_timer_t on `loop` resolves after `ms`
// milliseconds. Call on the loop's thread.
Promise<Unit> uv_delay(uv_loop_t* loop, std::uint64_t ms);

}  // namespace pollwake::hostloop

#endif  // POLLWAKE_INTEROP_HOSTLOOP_UV_HOST_H_
