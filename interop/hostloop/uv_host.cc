// interop/hostloop/uv_host.cc: UvHost and uv_delay (uv_host.h).
#include "interop/hostloop/uv_host.h"

#include <optional>
#include <stdexcept>
#include <utility>

namespace pollwake::hostloop {

// [START hostloop_uv_host]
UvHost::UvHost(uv_loop_t* loop, UvHostObservers observers)
    : loop_(loop),
      observers_(std::move(observers)),
      async_(new uv_async_t),
      // uv_async_send: thread-safe, and coalescing on its own; the executor
      // coalesces before it, so most wakes do not even reach it.
      executor_([async = async_, on_notify = observers_.on_notify] {
        if (on_notify) on_notify();
        uv_async_send(async);
      }) {
  if (uv_async_init(loop_, async_, &UvHost::on_async) != 0) {
    delete async_;
    throw std::runtime_error("UvHost: uv_async_init failed");
  }
  async_->data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(async_));  // no tasks yet
}

void UvHost::on_async(uv_async_t* handle) {
  auto* self = static_cast<UvHost*>(handle->data);
  ++self->passes_;
  const std::size_t polled = self->executor_.run_ready();  // never blocks the loop
  self->refresh_ref();
  if (self->observers_.on_pass) self->observers_.on_pass(polled);
}
// [END hostloop_uv_host]

void UvHost::refresh_ref() {
  // SAFETY: uv_async_t starts with the uv_handle_t fields (libuv's handle
  // "inheritance"), so the cast is the documented way to use it as a handle.
  auto* h = reinterpret_cast<uv_handle_t*>(async_);
  if (executor_.live_tasks() > 0) {
    uv_ref(h);
  } else {
    uv_unref(h);
  }
}

void UvHost::spawn_local(LocalBoxFuture<Unit> future, std::function<void(absl::Status)> on_done) {
  executor_.spawn_local(std::move(future), std::move(on_done));
  refresh_ref();
}

void UvHost::close() {
  if (async_ == nullptr) return;
  executor_.shutdown();  // notify is off for good: uv_async_send never sees a closed handle
  // SAFETY: as in refresh_ref, a uv_async_t is a uv_handle_t.
  uv_close(reinterpret_cast<uv_handle_t*>(async_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_async_t*>(h); });
  async_ = nullptr;
}

namespace {
// One timer and the resolver it settles; freed by the timer's close callback.
struct TimerOp {
  uv_timer_t timer;
  std::optional<Resolver<Unit>> resolver;
};

void close_timer(TimerOp* op) {
  // SAFETY: uv_timer_t is a uv_handle_t (libuv's handle layout), and `timer`
  // is TimerOp's first member, so the handle's address is the op's.
  uv_close(reinterpret_cast<uv_handle_t*>(&op->timer),
           [](uv_handle_t* h) { delete reinterpret_cast<TimerOp*>(h); });
}
}  // namespace

// [START hostloop_uv_delay]
Promise<Unit> uv_delay(uv_loop_t* loop, std::uint64_t ms) {
  auto* op = new TimerOp;
  uv_timer_init(loop, &op->timer);
  op->timer.data = op;
  // The cancel hook runs if the awaiting side is dropped first (on the
  // loop's thread): stop the timer and free it. Once the promise is settled
  // the hook is discarded, so it never sees a freed op.
  auto [promise, resolver] = make_promise<Unit>([op] {
    uv_timer_stop(&op->timer);
    close_timer(op);
  });
  op->resolver.emplace(std::move(resolver));
  uv_timer_start(
      &op->timer,
      [](uv_timer_t* t) {
        auto* fired = static_cast<TimerOp*>(t->data);
        fired->resolver->resolve(Unit{});  // wakes the task: notify -> uv_async_send
        close_timer(fired);
      },
      ms, 0);
  return std::move(promise);
}
// [END hostloop_uv_delay]

}  // namespace pollwake::hostloop
