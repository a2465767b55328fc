// tests/ffi/layout_test.cc: the C ABI types have the same layout under the C
// and the C++ compiler, and an FfiPoll crosses a C call by value. That rustc
// lays out the async-ffi crate's types the same way is checked against the
// real crate by RustFfiTest.RustcLaysOutTheCratesTypesAsTheCHeader.
#include <cstddef>
#include <cstdint>

#include <gtest/gtest.h>

#include "interop/ffi/async_ffi.h"
#include "interop/ffi/ffi_future.h"

extern "C" size_t pollwake_ffi_c_layout(int which);
extern "C" FfiPoll_u64 pollwake_ffi_c_ready_u64(uint64_t v);

namespace pollwake::ffi {
namespace {

TEST(FfiLayoutTest, CAndCppAgree) {
  const size_t cpp[] = {sizeof(FfiWakerVTable), sizeof(FfiWakerBase), sizeof(FfiContext),
                        sizeof(FfiPoll_u32),    offsetof(FfiPoll_u32, ready),
                        sizeof(FfiPoll_u64),    offsetof(FfiPoll_u64, ready),
                        sizeof(FfiPoll_ptr),    offsetof(FfiPoll_ptr, ready),
                        sizeof(FfiPoll_unit),   sizeof(FfiFuture_u32),
                        offsetof(FfiFuture_u32, drop_fn)};
  for (int i = 0; i < static_cast<int>(std::size(cpp)); ++i) {
    EXPECT_EQ(pollwake_ffi_c_layout(i), cpp[i]) << "item " << i;
  }
}

TEST(FfiLayoutTest, PollCrossesACCallByValue) {
  FfiPoll_u64 p = pollwake_ffi_c_ready_u64(uint64_t{1} << 50);
  EXPECT_EQ(p.tag, FFI_POLL_READY);
  EXPECT_EQ(FfiAbi<uint64_t>::value(p), uint64_t{1} << 50);
}

}  // namespace
}  // namespace pollwake::ffi
