// poll/waker.cc: the out-of-line parts of poll/waker.h (the noop table,
// from_raw's check, the refused clone).
#include "poll/waker.h"

#include <stdexcept>

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

}  // namespace detail

Waker Waker::from_raw(RawWaker raw) {
  if (raw.vtable == nullptr) {
    throw std::invalid_argument("Waker::from_raw: RawWaker has a null vtable");
  }
  return Waker(raw);
}

void Waker::clone_returned_null_vtable() {
  // The clone may hold a resource that cannot be released (there is no drop
  // to call through a null table); refusing loudly beats crashing at the
  // next wake.
  throw std::logic_error("Waker clone: vtable->clone returned a null vtable");
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
