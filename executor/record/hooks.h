// executor/record/hooks.h
//
// The single-line hooks the executors carry for the recorder
// (executor/record/recorder.h). Models what tokio's `tracing`
// instrumentation points are to tokio-console: fixed places in the runtime
// that report spawns, polls and parks, compiled out unless asked for.
//
// pollwake differs from tokio in one way that matters here: recording is a
// build-time choice, not a runtime subscriber. Built without
// POLLWAKE_RECORD=1 (the default; `--config=record` in .bazelrc turns it on),
// every macro below expands to nothing but the statement it wraps, this
// header includes nothing, and the executors are the same code as a tree
// without the recorder (tests/record/hooks_test.cc,
// CompiledOutHooksAreOnlyTheWrappedStatement, checks the expansions). Built with it, each hook asks Recorder::for_executor(key)
// whether this executor is being recorded: one relaxed load while no
// recorder is attached and POLLWAKE_RECORD_OUT is unset.
//
// Each hook is one line so that it can be re-applied by hand wherever an
// executor's internals move:
//   POLLWAKE_RECORD_WHERE          the last parameter of a spawning template:
//                                  the caller's record::SourceLocation
//   POLLWAKE_RECORD_SPAWN(key, fn, future)
//                                  first line of a spawning template: when
//                                  `key` is recorded, re-spawn through `fn`
//                                  with `future` wrapped in record::Recorded
//                                  (an lvalue is copied into the wrapper, as
//                                  the spawn would have copied it)
//   POLLWAKE_RECORD_RUN(key, fn, future)
//                                  the same, first line of run_until and
//                                  block_on, which poll an lvalue in place:
//                                  it is wrapped as record::InPlace (polled
//                                  where it is, never moved or copied)
//   POLLWAKE_RECORD_PARKED(key, stmt)
//                                  `stmt` (a park), bracketed by park/unpark
//                                  (each made under the registry's lock)
//   POLLWAKE_RECORD_ALREADY_QUEUED()
//                                  in a wake path that found the task queued
//   POLLWAKE_RECORD_KEY_MEMBER(ptr)
//                                  in a handle class whose copies share one
//                                  executor: `recorder_key()` returns `ptr`

#ifndef POLLWAKE_EXECUTOR_RECORD_HOOKS_H_
#define POLLWAKE_EXECUTOR_RECORD_HOOKS_H_

#if defined(POLLWAKE_RECORD) && POLLWAKE_RECORD

#include <type_traits>
#include <utility>

#include "executor/record/recorder.h"

#define POLLWAKE_RECORD_WHERE \
  , ::pollwake::record::SourceLocation pollwake_record_where = \
        ::pollwake::record::SourceLocation::current()

#define POLLWAKE_RECORD_SPAWN(key, fn, future)                                                \
  if constexpr (!::pollwake::record::kIsRecorded<::std::remove_cvref_t<decltype(future)>>)    \
    if (::pollwake::record::Recorder* pollwake_rec_ = ::pollwake::record::Recorder::for_executor(key)) \
      return fn(pollwake_rec_->wrap(::std::forward<decltype(future)>(future), pollwake_record_where))

#define POLLWAKE_RECORD_RUN(key, fn, future)                                                  \
  if constexpr (!::pollwake::record::kIsRecorded<::std::remove_cvref_t<decltype(future)>>)    \
    if (::pollwake::record::Recorder* pollwake_rec_ = ::pollwake::record::Recorder::for_executor(key)) { \
      if constexpr (::std::is_lvalue_reference_v<decltype(future)>) {                         \
        return fn(pollwake_rec_->wrap(                                                        \
            ::pollwake::record::InPlace<::std::remove_cvref_t<decltype(future)>>(future),     \
            pollwake_record_where));                                                          \
      } else {                                                                                \
        return fn(pollwake_rec_->wrap(::std::forward<decltype(future)>(future), pollwake_record_where)); \
      }                                                                                       \
    }                                                                                         \
  static_assert(true)

#define POLLWAKE_RECORD_PARKED(key, stmt)                                                 \
  do {                                                                                    \
    ::pollwake::record::ParkScope pollwake_park_(key); /* ends the park if stmt throws */ \
    stmt;                                                                                 \
  } while (0)

#define POLLWAKE_RECORD_ALREADY_QUEUED() ::pollwake::record::note_already_queued()

#define POLLWAKE_RECORD_KEY_MEMBER(ptr) \
  const void* recorder_key() const noexcept { return ptr; }

#else  // recording compiled out

#define POLLWAKE_RECORD_WHERE
#define POLLWAKE_RECORD_SPAWN(key, fn, future) static_assert(true)
#define POLLWAKE_RECORD_RUN(key, fn, future) static_assert(true)
#define POLLWAKE_RECORD_PARKED(key, stmt) stmt
#define POLLWAKE_RECORD_ALREADY_QUEUED() static_cast<void>(0)
#define POLLWAKE_RECORD_KEY_MEMBER(ptr) static_assert(true)

#endif

#endif  // POLLWAKE_EXECUTOR_RECORD_HOOKS_H_
