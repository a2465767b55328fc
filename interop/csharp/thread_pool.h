// interop/csharp/thread_pool.h
//
// Models C#'s `System.Threading.ThreadPool.QueueUserWorkItem`: the
// process-wide pool where C# runs work that has nowhere else to go, such as
// the continuations of a TaskCompletionSource created with
// RunContinuationsAsynchronously when no SynchronizationContext was captured,
// and whatever the base SynchronizationContext's Post receives.
//
//   C#                                        pollwake::csharp
//   ThreadPool.QueueUserWorkItem(_ => f())    ThreadPool::QueueUserWorkItem(f)
//   Thread.CurrentThread.IsThreadPoolThread   ThreadName() == "pool"
//
// How pollwake differs, and why: C#'s pool grows and shrinks; this one starts
// kThreads threads, named "pool", on first use and keeps them until the
// process exits (its destructor, at static destruction, stops them after the
// item each is running; items still queued are dropped, as the CLR drops them
// when the process ends). It is deliberately simple: pollwake's own
// ThreadPool (executor/) is the one built for speed; this one exists to show
// where C# continuations run.
//
// An exception that escapes a work item ends the process (std::terminate,
// after a message on stderr), as an unhandled exception on a C# pool thread
// does. Task continuations never throw: a Task's body catches everything.
//
// Its promises, and the tests that check them, are written once in
// docs/guarantees.md ("The C# model and the bridge").
#ifndef POLLWAKE_INTEROP_CSHARP_THREAD_POOL_H_
#define POLLWAKE_INTEROP_CSHARP_THREAD_POOL_H_

#include <cstddef>
#include <functional>

namespace pollwake::csharp {

class ThreadPool {
 public:
  static constexpr std::size_t kThreads = 2;
  // ThreadPool::QueueUserWorkItem: runs `work` soon on a pool thread. May be
  // called from any thread, including pool threads.
  static void QueueUserWorkItem(std::function<void()> work);
  // ThreadPool::CompletedWorkItemCount (C#: ThreadPool.CompletedWorkItemCount).
  static std::size_t CompletedWorkItemCount();
};

}  // namespace pollwake::csharp

#endif  // POLLWAKE_INTEROP_CSHARP_THREAD_POOL_H_
