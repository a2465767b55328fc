// tests/ffi/layout_test.cc: the C ABI types have the same layout under the C
// and the C++ compiler, and the one the async-ffi crate has under rustc (the
// numbers below; the Rust oracle checks them against the real crate).
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

TEST(FfiLayoutTest, MatchesTheCratesLayoutUnderRustc) {
  // rustc 1.63, x86_64 and aarch64 Linux: size_of / offset of the crate's
  // types (FfiPoll<T> is #[repr(C, u8)]).
  EXPECT_EQ(sizeof(FfiPoll_u32), 8u);
  EXPECT_EQ(sizeof(FfiPoll_u64), 16u);
  EXPECT_EQ(sizeof(FfiPoll_ptr), 16u);
  EXPECT_EQ(sizeof(FfiPoll_unit), 1u);
  EXPECT_EQ(sizeof(FfiFuture_u32), 24u);
  EXPECT_EQ(sizeof(FfiContext), sizeof(void*));
}

TEST(FfiLayoutTest, TagsAreTheEnumsDeclarationOrder) {
  EXPECT_EQ(FFI_POLL_READY, 0);
  EXPECT_EQ(FFI_POLL_PENDING, 1);
  EXPECT_EQ(FFI_POLL_PANICKED, 2);
}

TEST(FfiLayoutTest, PollCrossesACCallByValue) {
  FfiPoll_u64 p = pollwake_ffi_c_ready_u64(uint64_t{1} << 50);
  EXPECT_EQ(p.tag, FFI_POLL_READY);
  EXPECT_EQ(FfiAbi<uint64_t>::value(p), uint64_t{1} << 50);
}

}  // namespace
}  // namespace pollwake::ffi
