// executor/enter.cc: EnterError (the flag and enter() are inline in enter.h).
#include "executor/enter.h"

namespace pollwake {
EnterError::EnterError()
    : std::logic_error(
          "cannot block_on / run an executor from within another executor: "
          "this thread is already driving a pollwake executor (block_on, "
          "LocalPool::run*, or a ThreadPool worker polling a task), and "
          "blocking it here would stop that executor from making progress "
          "(a deadlock); await the future instead, or spawn it") {}

// The flag itself, enter(), ~Enter and is_entered() are inline in enter.h.
void detail::throw_enter_error() { throw EnterError(); }

}  // namespace pollwake
