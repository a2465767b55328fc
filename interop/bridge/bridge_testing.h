// interop/bridge/bridge_testing.h: a fault-injection seam for the bridge's
// own tests (C++ only; not part of the C ABI in pollwake_bridge.h).
//
// Models nothing in the LanceDB C# bridge pattern: it exists so that a test
// can reach a failure that real runs reach only when memory runs out, the
// channel's send throwing after it took the command, and check that the
// status the edge returns equals the one `done` receives.
#ifndef POLLWAKE_INTEROP_BRIDGE_BRIDGE_TESTING_H_
#define POLLWAKE_INTEROP_BRIDGE_BRIDGE_TESTING_H_

namespace pollwake::bridge::testing {

// The next command this thread submits to a running runtime is taken and
// then std::bad_alloc is thrown, as if the channel's send had failed to
// allocate. Thread-local, so other threads' calls are unaffected.
void FailNextSendOnThisThread();

// The flag behind it (bridge.cc reads it in Submit).
extern thread_local bool tls_fail_next_send;

}  // namespace pollwake::bridge::testing

#endif  // POLLWAKE_INTEROP_BRIDGE_BRIDGE_TESTING_H_
