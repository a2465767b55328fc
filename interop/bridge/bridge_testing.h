// interop/bridge/bridge_testing.h: fault-injection seams for the bridge's
// own tests (C++ only; not part of the C ABI in pollwake_bridge.h).
//
// Models nothing in the LanceDB C# bridge pattern: they exist so that a test
// can reach failures that real runs reach only through a bug or when memory
// runs out, and check the statuses the callers then hear:
//   * the channel's send throwing after it took the command: the status the
//     edge returns equals the one `done` receives;
//   * the runtime's run loop throwing: every call it had accepted and every
//     later call gets PWB_INTERNAL saying so, until pwb_shutdown.
#ifndef POLLWAKE_INTEROP_BRIDGE_BRIDGE_TESTING_H_
#define POLLWAKE_INTEROP_BRIDGE_BRIDGE_TESTING_H_

#include <atomic>

namespace pollwake::bridge::testing {

// The next command this thread submits to a running runtime is taken and
// then std::bad_alloc is thrown, as if the channel's send had failed to
// allocate. Thread-local, so other threads' calls are unaffected.
void FailNextSendOnThisThread();

// The flag behind it (bridge.cc reads it in Submit).
extern thread_local bool tls_fail_next_send;

// The next poll of the runtime's dispatcher (the task that takes commands
// from the channel) throws std::runtime_error before it takes any, and the
// exception propagates out of the runtime's run loop. Process-wide: the
// next time any call wakes the dispatcher.
void MakeTheDispatcherThrowOnce();

// The flag behind it (bridge.cc reads it in Dispatcher::poll).
extern std::atomic<bool> g_dispatcher_throws_once;

}  // namespace pollwake::bridge::testing

#endif  // POLLWAKE_INTEROP_BRIDGE_BRIDGE_TESTING_H_
