// poll/raw_waker.h
//
// Models Rust's `std::task::RawWaker` and `std::task::RawWakerVTable`: a data
// pointer plus a table of four functions that together say what waking means.
//
//   Rust                                    pollwake
//   RawWaker::new(*const (), &'static VT)   RawWaker{data, &vtable}
//   RawWakerVTable::new(clone, wake,        RawWakerVTable{clone, wake,
//                       wake_by_ref, drop)                 wake_by_ref, drop}
//
// The four entries are plain function pointers over `const void*`, so a
// captureless lambda converts to each, and a waker can be built exactly as in
// Rust: one static table of four lambdas (examples/01_trivial.cc does).
//
// The contract each function must keep (Rust's documentation says the same;
// breaking it is undefined behaviour in Rust, and a bug here too):
//   clone(data)       returns a new RawWaker that wakes the same task. It
//                     usually increments a reference count. The returned
//                     waker is owned by the caller and will be dropped once.
//   wake(data)        wakes the task and releases the resources of this
//                     RawWaker, as drop would: it consumes it. drop is NOT
//                     called afterwards.
//   wake_by_ref(data) wakes the task without consuming the RawWaker.
//   drop(data)        releases the resources of this RawWaker.
// All four may be called from any thread, including threads that did not
// create the waker, and concurrently with each other on clones of one waker.
// The table itself must outlive every waker that points at it (usually a
// `static` or `inline constexpr` object).
//
// A waker that throws is a bug, and the process stops. None of the four
// functions may throw, and clone must return a non-null vtable. Waker calls
// each of them through one noexcept boundary (detail::call_vtable in
// poll/waker.h); if one throws anyway, the boundary prints which operation
// threw (and what(), for a std::exception) to stderr and calls std::abort.
// No caller ever sees the exception, and nothing swallows it. This is
// async-task's rule (a waker that panics is a bug, and it aborts). Rust's std
// lets such a panic unwind into whoever called wake; pollwake does not.
// Why one rule and not "the caller sees it": wakes run in destructors
// (oneshot's Sender, mpsc's Receiver), after a lock is released, and inside
// executors' bookkeeping. An exception there would be swallowed in one place,
// terminate the process in another, and leave a task queued twice in a
// third. One boundary gives one outcome with one message.
// Everything a waker does must therefore be infallible: allocate nothing
// that can fail, or treat that failure as fatal itself.
//
// Its promises, and the tests that check them, are written once in
// docs/guarantees.md ("Wakers").
#ifndef POLLWAKE_POLL_RAW_WAKER_H_
#define POLLWAKE_POLL_RAW_WAKER_H_

namespace pollwake {

struct RawWakerVTable;

// [START raw_waker]
struct RawWaker {
  // Rust: RawWaker::data()
  const void* data;
  // Rust: RawWaker::vtable()
  const RawWakerVTable* vtable;
};

struct RawWakerVTable {
  RawWaker (*clone)(const void* data);
  void (*wake)(const void* data);
  void (*wake_by_ref)(const void* data);
  void (*drop)(const void* data);
};
// [END raw_waker]

}  // namespace pollwake

#endif  // POLLWAKE_POLL_RAW_WAKER_H_
