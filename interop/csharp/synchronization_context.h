// interop/csharp/synchronization_context.h
//
// Models C#'s `System.Threading.SynchronizationContext`: "where should code
// that continues after an await run?". A UI framework installs one on its UI
// thread whose Post queues work to that thread's message loop; a console
// program has none.
//
//   C#                                               pollwake::csharp
//   abstract-ish class SynchronizationContext        class SynchronizationContext
//   ctx.Post(SendOrPostCallback d, object state)     ctx.Post(std::function<void()>)
//   SynchronizationContext.Current                   SynchronizationContext::Current()
//   SynchronizationContext.SetSynchronizationContext SynchronizationContext::SetSynchronizationContext
//   (a WinForms/WPF UI thread's context)             SingleThreadSynchronizationContext
//   (Stephen Toub's AsyncPump message loop)            + RunOnCurrentThread() / Complete()
//
// Members are named in PascalCase, as C# names them, because these model C#
// items, not Rust ones.
//
// The rules an await follows (interop/csharp/task.h applies them):
//   * `await t` captures Current() of the awaiting thread, unless it is null
//     or exactly the base SynchronizationContext (C# skips the base type: its
//     Post would only go to the thread pool).
//   * ConfigureAwait(false) captures nothing.
//   * When t completes: a captured context gets the continuation through
//     Post, except that it runs inline when the completing thread is already
//     in that same context and inlining is allowed; with no context, the
//     continuation runs inline on the completing thread, or on the ThreadPool
//     when the completion asked for asynchronous continuations.
//
// How pollwake differs, and why: C# has a garbage collector; here the owner
// of a context must keep it alive until every continuation that captured it
// has been posted (for a SingleThreadSynchronizationContext: until
// RunOnCurrentThread returns). Current() is a raw, non-owning pointer.
// C#'s `Send` (synchronous) is left out: nothing here needs it.
//
// Its promises, and the tests that check them, are written once in
// docs/guarantees.md ("The C# model and the bridge").
#ifndef POLLWAKE_INTEROP_CSHARP_SYNCHRONIZATION_CONTEXT_H_
#define POLLWAKE_INTEROP_CSHARP_SYNCHRONIZATION_CONTEXT_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>

namespace pollwake::csharp {

class SynchronizationContext {
 public:
  SynchronizationContext() = default;
  SynchronizationContext(const SynchronizationContext&) = delete;
  SynchronizationContext& operator=(const SynchronizationContext&) = delete;
  virtual ~SynchronizationContext() = default;

  // SynchronizationContext::Post: runs `d` later, asynchronously. The base
  // class queues it to the ThreadPool, as C#'s does. May be called from any
  // thread.
  virtual void Post(std::function<void()> d);

  // SynchronizationContext::Current: the context set on the calling thread,
  // or nullptr (a fresh thread has none).
  static SynchronizationContext* Current() noexcept;
  // SynchronizationContext::SetSynchronizationContext: sets the calling
  // thread's context (nullptr clears it). Does not take ownership.
  static void SetSynchronizationContext(SynchronizationContext* context) noexcept;

  // What an await captures: Current(), unless that is null or exactly the
  // base class (see the header). Not a C# public member; C# does this inside
  // its awaiter.
  static SynchronizationContext* CaptureForAwait() noexcept;
};

// SingleThreadSynchronizationContext: a UI-thread-like loop. Post (from any
// thread) appends to a queue; RunOnCurrentThread, called on the thread that
// owns the loop, runs the queued items one at a time, in order, until
// Complete() has been called and the queue is empty.
class SingleThreadSynchronizationContext final : public SynchronizationContext {
 public:
  void Post(std::function<void()> d) override;

  // Pumps the queue on the calling thread (see above). An exception from an
  // item propagates out of RunOnCurrentThread (a UI loop would crash the
  // application); the items still queued stay queued.
  void RunOnCurrentThread();
  // Lets RunOnCurrentThread return once the queue is empty. Any thread.
  void Complete();

  // Counters for tests and traces (not C# members).
  std::size_t PostedCount() const;
  std::size_t RunCount() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // written under mu_
  bool completed_ = false;                   // written under mu_
  std::size_t posted_ = 0;                   // written under mu_
  std::size_t run_ = 0;                      // written under mu_
};

// SynchronizationContextScope: sets a context on the calling thread for one
// scope and restores the previous one (C# code does this by hand in
// try/finally).
class SynchronizationContextScope {
 public:
  explicit SynchronizationContextScope(SynchronizationContext* context) noexcept
      : previous_(SynchronizationContext::Current()) {
    SynchronizationContext::SetSynchronizationContext(context);
  }
  ~SynchronizationContextScope() { SynchronizationContext::SetSynchronizationContext(previous_); }
  SynchronizationContextScope(const SynchronizationContextScope&) = delete;
  SynchronizationContextScope& operator=(const SynchronizationContextScope&) = delete;

 private:
  SynchronizationContext* previous_;
};

}  // namespace pollwake::csharp

#endif  // POLLWAKE_INTEROP_CSHARP_SYNCHRONIZATION_CONTEXT_H_
