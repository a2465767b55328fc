// executor/task_canceled.h
//
// Models what Rust reports when a task's handle is awaited but the task was
// dropped before it finished: futures-rs's `RemoteHandle` resumes the panic
// of its dropped `Remote` ("Canceled"), tokio's `JoinHandle` yields a
// `JoinError` that `is_cancelled()`.
//
// How pollwake differs, and why: C++ throws instead of panicking. Both
// executors share this one type, so code that awaits handles of either pool
// catches one exception; the message says which pool dropped the task and why.
#ifndef POLLWAKE_EXECUTOR_TASK_CANCELED_H_
#define POLLWAKE_EXECUTOR_TASK_CANCELED_H_

#include <stdexcept>
#include <string>

namespace pollwake {

// TaskCanceled: thrown by polling a handle whose task was destroyed
// unfinished (its pool was dropped or shut down).
class TaskCanceled : public std::runtime_error {
 public:
  explicit TaskCanceled(const std::string& why) : std::runtime_error(why) {}
};

}  // namespace pollwake

#endif  // POLLWAKE_EXECUTOR_TASK_CANCELED_H_
