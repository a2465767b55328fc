/* interop/ffi/async_ffi.h
 *
 * Models the C ABI of the async-ffi crate (version 0.5.1, ABI_VERSION 2): the
 * `repr(C)` types through which a future crosses a C function boundary, so
 * that a plugin built by one compiler (rustc, g++, clang, a C compiler) hands
 * an async function to a host built by another.
 *
 *   Rust (async_ffi)                      C (this header)
 *   struct FfiWakerVTable {clone, wake,   FfiWakerVTable, the same four
 *          wake_by_ref, drop}               function pointers, same order
 *   struct FfiWakerBase {vtable}          FfiWakerBase
 *   struct FfiContext<'a> {waker, _}      FfiContext (PhantomData has no size)
 *   enum FfiPoll<T> (repr(C, u8))         FfiPoll_<name>: a u8 tag, then the
 *     Ready(T) = 0, Pending = 1,            payload at the payload's alignment
 *     Panicked = 2                          (FFI_POLL_READY/PENDING/PANICKED)
 *   struct LocalBorrowingFfiFuture<T>     FfiFuture_<name>: fut_ptr, poll_fn,
 *     (FfiFuture<T>, LocalFfiFuture<T>)     drop_fn (the marker has no size)
 *
 * C has no generics, so one FfiPoll/FfiFuture pair is declared per payload
 * type by POLLWAKE_FFI_DECLARE(name, type). This header ships four, with their
 * sizes and offsets checked at compile time: u32 (uint32_t), u64 (uint64_t),
 * ptr (void*) and unit (Rust's `()`, which has no bytes: FfiPoll_unit is the
 * tag alone). Other payloads: declare them the same way; they must be types
 * whose C layout equals their Rust `repr(C)` layout.
 *
 * How Rust lays out `#[repr(C, u8)] enum FfiPoll<T>` (RFC 2195): as a
 * `repr(C)` struct of the `u8` tag followed by a `repr(C)` union of one
 * `repr(C)` struct per variant. Pending and Panicked have no fields, so the
 * union is Ready's payload: the payload sits at offset alignof(T), and the
 * size is rounded up to alignof(T). `struct { uint8_t tag; T ready; }` is the
 * same layout, and it is classified the same way by the C calling convention,
 * so an FfiPoll is returned exactly as rustc returns it.
 *
 * The contract (the crate's, restated):
 *   - poll_fn(fut_ptr, cx) polls the future once. cx->waker is BORROWED for
 *     the duration of the call: the callee may call its vtable's clone and
 *     wake_by_ref, never wake or drop. A clone is OWNED: it is released by
 *     exactly one call of wake or drop, on any thread.
 *   - A poll_fn that "panics" (an exception, a Rust panic) returns
 *     FFI_POLL_PANICKED instead of unwinding: unwinding across a C function
 *     is undefined behaviour.
 *   - drop_fn(fut_ptr) is called once, whatever state the future is in, and
 *     the future is not used afterwards. A panic in drop_fn or in any waker
 *     function ends the process (the crate aborts there; so does pollwake).
 *   - Polling after Ready is the caller's bug. The crate's poll_fn has no
 *     guard of its own: it polls the wrapped future again, which answers
 *     FFI_POLL_PANICKED only if that future panics on a re-poll (as an async
 *     block does); a hand-written future may answer anything. A future built
 *     by pollwake's into_ffi answers FFI_POLL_PANICKED after Ready or
 *     Panicked without running the future again.
 *   - Send and lifetimes cannot be written in C; FfiFuture (Send) and
 *     LocalFfiFuture (not Send) have the same layout, and keeping the promise
 *     is the foreign side's duty.
 *
 * Valid C11 and C++20; the C++ adapters are in ffi_future.h.
 */
#ifndef POLLWAKE_INTEROP_FFI_ASYNC_FFI_H_
#define POLLWAKE_INTEROP_FFI_ASYNC_FFI_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define POLLWAKE_FFI_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
extern "C" {
#else
#define POLLWAKE_FFI_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

/* async_ffi::ABI_VERSION: every incompatible change of the layout below
 * raises it (and the crate's major version). */
#define POLLWAKE_ASYNC_FFI_ABI_VERSION 2

// [START c_layout]
typedef struct FfiWakerBase FfiWakerBase;

/* The four waker functions, over a pointer to the waker's base. clone
 * returns a new owned waker; wake consumes its argument; wake_by_ref does
 * not; drop releases it. All may be called from any thread. */
typedef struct FfiWakerVTable {
  const FfiWakerBase* (*clone)(const FfiWakerBase* waker);
  void (*wake)(const FfiWakerBase* waker);
  void (*wake_by_ref)(const FfiWakerBase* waker);
  void (*drop)(const FfiWakerBase* waker);
} FfiWakerVTable;

/* What every waker starts with; its owner's data follows (the crate calls
 * the whole thing FfiWaker and only the base is visible across the ABI). */
struct FfiWakerBase {
  const FfiWakerVTable* vtable;
};

/* What poll_fn receives: a borrowed waker. */
typedef struct FfiContext {
  const FfiWakerBase* waker;
} FfiContext;

/* FfiPoll's tag values (the enum's declaration order). */
enum {
  FFI_POLL_READY = 0,
  FFI_POLL_PENDING = 1,
  FFI_POLL_PANICKED = 2
};

/* Declares FfiPoll_<name> and FfiFuture_<name> for payload type T. */
#define POLLWAKE_FFI_DECLARE(name, T)                                  \
  typedef struct FfiPoll_##name {                                      \
    uint8_t tag;                                                       \
    T ready; /* meaningful only when tag == FFI_POLL_READY */          \
  } FfiPoll_##name;                                                    \
  typedef struct FfiFuture_##name {                                    \
    void* fut_ptr;                                                     \
    FfiPoll_##name (*poll_fn)(void* fut_ptr, FfiContext* context_ptr); \
    void (*drop_fn)(void* fut_ptr);                                    \
  } FfiFuture_##name

POLLWAKE_FFI_DECLARE(u32, uint32_t);
POLLWAKE_FFI_DECLARE(u64, uint64_t);
POLLWAKE_FFI_DECLARE(ptr, void*);

/* `()` has no bytes: Ready(()) is the tag alone. */
typedef struct FfiPoll_unit {
  uint8_t tag;
} FfiPoll_unit;
typedef struct FfiFuture_unit {
  void* fut_ptr;
  FfiPoll_unit (*poll_fn)(void* fut_ptr, FfiContext* context_ptr);
  void (*drop_fn)(void* fut_ptr);
} FfiFuture_unit;
// [END c_layout]

/* The layout rustc gives the crate's types on the platforms pollwake builds
 * for (LP64: 8-byte pointers, uint64_t aligned to 8). The Rust oracle test
 * checks the same numbers against the real crate at run time. */
POLLWAKE_FFI_STATIC_ASSERT(sizeof(void*) == 8, "pollwake's FFI layout checks assume LP64");
POLLWAKE_FFI_STATIC_ASSERT(sizeof(FfiWakerVTable) == 32, "FfiWakerVTable: 4 function pointers");
POLLWAKE_FFI_STATIC_ASSERT(offsetof(FfiWakerVTable, clone) == 0, "FfiWakerVTable::clone");
POLLWAKE_FFI_STATIC_ASSERT(offsetof(FfiWakerVTable, wake) == 8, "FfiWakerVTable::wake");
POLLWAKE_FFI_STATIC_ASSERT(offsetof(FfiWakerVTable, wake_by_ref) == 16, "FfiWakerVTable::wake_by_ref");
POLLWAKE_FFI_STATIC_ASSERT(offsetof(FfiWakerVTable, drop) == 24, "FfiWakerVTable::drop");
POLLWAKE_FFI_STATIC_ASSERT(sizeof(FfiWakerBase) == 8, "FfiWakerBase: the vtable pointer");
POLLWAKE_FFI_STATIC_ASSERT(sizeof(FfiContext) == 8, "FfiContext: the waker pointer");

POLLWAKE_FFI_STATIC_ASSERT(sizeof(FfiPoll_u32) == 8 && offsetof(FfiPoll_u32, ready) == 4,
                           "FfiPoll<u32>: tag, 3 bytes padding, payload");
POLLWAKE_FFI_STATIC_ASSERT(sizeof(FfiPoll_u64) == 16 && offsetof(FfiPoll_u64, ready) == 8,
                           "FfiPoll<u64>: tag, 7 bytes padding, payload");
POLLWAKE_FFI_STATIC_ASSERT(sizeof(FfiPoll_ptr) == 16 && offsetof(FfiPoll_ptr, ready) == 8,
                           "FfiPoll<*mut ()>: tag, 7 bytes padding, payload");
POLLWAKE_FFI_STATIC_ASSERT(sizeof(FfiPoll_unit) == 1, "FfiPoll<()>: the tag alone");

#define POLLWAKE_FFI_CHECK_FUTURE(name)                                                 \
  POLLWAKE_FFI_STATIC_ASSERT(sizeof(FfiFuture_##name) == 24 &&                          \
                                 offsetof(FfiFuture_##name, fut_ptr) == 0 &&            \
                                 offsetof(FfiFuture_##name, poll_fn) == 8 &&            \
                                 offsetof(FfiFuture_##name, drop_fn) == 16,             \
                             "FfiFuture<" #name ">: fut_ptr, poll_fn, drop_fn")
POLLWAKE_FFI_CHECK_FUTURE(u32);
POLLWAKE_FFI_CHECK_FUTURE(u64);
POLLWAKE_FFI_CHECK_FUTURE(ptr);
POLLWAKE_FFI_CHECK_FUTURE(unit);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* POLLWAKE_INTEROP_FFI_ASYNC_FFI_H_ */
