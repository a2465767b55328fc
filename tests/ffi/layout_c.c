/* tests/ffi/layout_c.c: async_ffi.h compiled as C11 (its _Static_asserts run
 * here), and the sizes and offsets a C compiler gives its types, for
 * layout_test.cc to compare with the C++ compiler's. */
#include <stddef.h>

#include "interop/ffi/async_ffi.h"

size_t pollwake_ffi_c_layout(int which) {
  switch (which) {
    case 0: return sizeof(FfiWakerVTable);
    case 1: return sizeof(FfiWakerBase);
    case 2: return sizeof(FfiContext);
    case 3: return sizeof(FfiPoll_u32);
    case 4: return offsetof(FfiPoll_u32, ready);
    case 5: return sizeof(FfiPoll_u64);
    case 6: return offsetof(FfiPoll_u64, ready);
    case 7: return sizeof(FfiPoll_ptr);
    case 8: return offsetof(FfiPoll_ptr, ready);
    case 9: return sizeof(FfiPoll_unit);
    case 10: return sizeof(FfiFuture_u32);
    case 11: return offsetof(FfiFuture_u32, drop_fn);
    default: return 0;
  }
}

/* A C function that builds a Ready poll, called from C++: the same struct
 * crosses a C/C++ call by value. */
FfiPoll_u64 pollwake_ffi_c_ready_u64(uint64_t v) {
  FfiPoll_u64 p = {FFI_POLL_READY, v};
  return p;
}
