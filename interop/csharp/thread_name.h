// interop/csharp/thread_name.h
//
// Models C#'s `Thread.CurrentThread.Name`: a name a program gives its own
// threads, so traces can say "ui", "worker" or "pool" instead of an id.
//
//   C#                                   pollwake::csharp
//   Thread.CurrentThread.Name = "ui"     SetThreadName("ui")
//   Thread.CurrentThread.Name            ThreadName()   ("" when never set)
//
// How pollwake differs, and why: the name lives in a thread_local string and
// is not given to the operating system; its only use is deterministic traces.
// Threads of csharp::ThreadPool are all named "pool".
//
// Its promises, and the tests that check them, are written once in
// docs/guarantees.md ("The C# model and the bridge").
#ifndef POLLWAKE_INTEROP_CSHARP_THREAD_NAME_H_
#define POLLWAKE_INTEROP_CSHARP_THREAD_NAME_H_

#include <string>

namespace pollwake::csharp {

namespace detail {
inline std::string& thread_name_slot() {
  thread_local std::string name;
  return name;
}
}  // namespace detail

// SetThreadName: names the calling thread.
inline void SetThreadName(std::string name) { detail::thread_name_slot() = std::move(name); }
// ThreadName: the calling thread's name, "" if it was never named.
inline const std::string& ThreadName() { return detail::thread_name_slot(); }

}  // namespace pollwake::csharp

#endif  // POLLWAKE_INTEROP_CSHARP_THREAD_NAME_H_
