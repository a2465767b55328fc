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

const Waker& Waker::noop() noexcept {
  // A function-local static: built once, never destroyed before the last
  // use (its destructor is a noop drop anyway).
  static const Waker kNoop(RawWaker{nullptr, &detail::kNoopVTable});
  return kNoop;
}

}  // namespace pollwake
