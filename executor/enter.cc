// executor/enter.cc: the thread-local flag behind enter() (see enter.h).
#include "executor/enter.h"

namespace pollwake {
namespace {
// One flag per thread; only the owning thread reads or writes it, so a plain
// bool suffices (no atomics, no ordering).
thread_local bool tls_entered = false;
}  // namespace

EnterError::EnterError()
    : std::logic_error(
          "cannot block_on / run an executor from within another executor: "
          "this thread is already driving a pollwake executor (block_on, "
          "LocalPool::run*, or a ThreadPool worker polling a task), and "
          "blocking it here would stop that executor from making progress "
          "(a deadlock); await the future instead, or spawn it") {}

Enter::~Enter() { tls_entered = false; }

Enter enter() {
  if (tls_entered) throw EnterError();
  tls_entered = true;
  return Enter();
}

bool is_entered() noexcept { return tls_entered; }

}  // namespace pollwake
