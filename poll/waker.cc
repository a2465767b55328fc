// poll/waker.cc: the out-of-line parts of poll/waker.h (the noop table,
// from_raw's check, the boundary that stops the process when a waker throws).
#include "poll/waker.h"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>

namespace pollwake {
namespace detail {

// The noop table: clone hands back the same (static, ownerless) RawWaker, so
// cloning, waking and dropping a noop waker touch no memory at all.
const RawWakerVTable kNoopVTable = {
    /*clone=*/[](const void*) -> RawWaker { return RawWaker{nullptr, &kNoopVTable}; },
    /*wake=*/[](const void*) {},
    /*wake_by_ref=*/[](const void*) {},
    /*drop=*/[](const void*) {},
};

void waker_broke(const char* operation, const char* why) noexcept {
  std::fprintf(stderr,
               "pollwake: a waker broke its contract: RawWakerVTable::%s %s. A waker that "
               "throws is a bug (poll/raw_waker.h); stopping the process.\n",
               operation, why);
  std::fflush(stderr);
  std::abort();
}

void waker_threw(const char* operation) noexcept {
  // Called from inside call_vtable's catch block, so `throw;` rethrows the
  // exception in flight, only to read its message.
  std::string why = "threw an exception that is not a std::exception";
  try {
    throw;
  } catch (const std::exception& e) {
    why = std::string("threw: ") + e.what();
  } catch (...) {
  }
  waker_broke(operation, why.c_str());
}

}  // namespace detail

Waker Waker::from_raw(RawWaker raw) {
  if (raw.vtable == nullptr) {
    throw std::invalid_argument("Waker::from_raw: RawWaker has a null vtable");
  }
  return Waker(raw);
}


const Waker& Waker::noop() noexcept {
  // Built once, on first use (thread-safe, as every function-local static),
  // and never destroyed: the union's empty destructor skips ~Waker, so a
  // thread still running during static destruction at exit may keep using
  // it. Nothing leaks: the noop waker owns no resource.
  union NeverDestroyed {
    Waker waker;
    ~NeverDestroyed() {}
  };
  static const NeverDestroyed kNoop{Waker(RawWaker{nullptr, &detail::kNoopVTable})};
  return kNoop.waker;
}

}  // namespace pollwake
