// interop/ffi/plugin/plugin.cc: a plugin built on its own as a shared
// library (libpollwake_ffi_plugin.so). It exports async functions through the
// C ABI of the async-ffi crate and needs no symbol from its host: pollwake's
// headers are compiled in, and the version script (plugin.lds) exports only
// the functions below, so two copies of pollwake in one process never meet.
//
//   extern "C" FfiFuture_u32 plugin_run(uint32_t a, uint32_t b)
//       completes a few milliseconds after its first poll, woken from a
//       thread of its own, with a + b (async-ffi's link tests keep the same
//       contract).
//   extern "C" FfiFuture_u32 plugin_fail(uint32_t a, uint32_t b)
//       throws on its first poll: the host sees Panicked.
//
// Both exports are noexcept and run their body under abort_on_exception: an
// exception escaping an extern "C" function into C or Rust is undefined, so an
// export that cannot build its future ends the process with a message instead.
// Every export of a plugin must do the same.
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "interop/ffi/async_ffi.h"
#include "interop/ffi/ffi_future.h"
#include "poll/context.h"
#include "poll/poll.h"
#include "poll/waker.h"

namespace {

using pollwake::Context;
using pollwake::Pending;
using pollwake::Poll;
using pollwake::Ready;
using pollwake::Waker;

// [START plugin_future]
// DelayedSum: Ready(a + b) once a helper thread, started by the first poll,
// has slept a few milliseconds and woken the latest waker.
class DelayedSum {
 public:
  using Output = uint32_t;
  DelayedSum(uint32_t a, uint32_t b) : a_(a), b_(b), shared_(std::make_shared<Shared>()) {}
  DelayedSum(DelayedSum&&) = default;  // only before the first poll (the thread is not started)
  ~DelayedSum() {
    if (!thread_.joinable()) return;
    // A host waker may run the task inline inside wake(), on the helper
    // thread, and drop this future there: that thread cannot join itself, so
    // it is detached (it owns a reference to the shared state and only
    // returns from wake() afterwards).
    if (thread_.get_id() == std::this_thread::get_id()) {
      thread_.detach();
    } else {
      thread_.join();
    }
  }

  Poll<uint32_t> poll(Context& cx) {
    {
      // A plain mutex: it guards a flag and a waker for a few instructions,
      // and the wake happens outside it. (Not absl::Mutex: Debian's abseil is
      // a shared library that ThreadSanitizer cannot see into.)
      std::lock_guard<std::mutex> lock(shared_->mu);
      if (shared_->done) return Ready(a_ + b_);
      // Only the latest waker counts; stored under the lock that the helper
      // takes to read it, so a wake cannot fall between check and store.
      shared_->waker.clone_from(cx.waker());
    }
    if (!thread_.joinable()) {
      thread_ = std::thread([s = shared_] {
        std::this_thread::sleep_for(std::chrono::milliseconds(3));
        Waker w = Waker::noop();
        {
          std::lock_guard<std::mutex> lock(s->mu);
          s->done = true;
          w = std::move(s->waker);
        }
        std::move(w).wake();  // from this thread, outside the lock
      });
    }
    return Pending;
  }
  // [END plugin_future]

 private:
  struct Shared {
    std::mutex mu;
    bool done = false;       // written under mu
    Waker waker = Waker::noop();  // written under mu
  };
  uint32_t a_, b_;
  std::shared_ptr<Shared> shared_;  // shared with the helper thread
  std::thread thread_;
};

// Fails: throws on its first poll.
struct Failing {
  using Output = uint32_t;
  uint32_t a, b;
  Poll<uint32_t> poll(Context&) {
    throw std::runtime_error("plugin_fail(" + std::to_string(a) + ", " + std::to_string(b) +
                             "): this future always throws");
  }
};

}  // namespace

// [START plugin_exports]
// An export must not let an exception reach its C or Rust caller (unwinding
// through a foreign frame is undefined): a failure to build the future (e.g.
// std::bad_alloc) ends the process with a message.
extern "C" FfiFuture_u32 plugin_run(uint32_t a, uint32_t b) noexcept {
  return pollwake::ffi::detail::abort_on_exception(
      "plugin_run", [=] { return pollwake::ffi::into_ffi(DelayedSum(a, b)).into_raw(); });
}

extern "C" FfiFuture_u32 plugin_fail(uint32_t a, uint32_t b) noexcept {
  return pollwake::ffi::detail::abort_on_exception(
      "plugin_fail", [=] { return pollwake::ffi::into_ffi(Failing{a, b}).into_raw(); });
}
// [END plugin_exports]
