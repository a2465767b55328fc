// executor/spawn_error.h
//
// Models futures-rs's `futures::task::SpawnError`: a spawn was refused
// because the executor is gone (`SpawnError::shutdown()`, `is_shutdown()`).
//
// How pollwake differs, and why: Rust returns `Result<(), SpawnError>`;
// pollwake's spawners throw it (C++'s error channel for a refused operation
// that the caller usually cannot handle locally). The message says why.
#ifndef POLLWAKE_EXECUTOR_SPAWN_ERROR_H_
#define POLLWAKE_EXECUTOR_SPAWN_ERROR_H_

#include <stdexcept>
#include <string>

namespace pollwake {

class SpawnError : public std::runtime_error {
 public:
  // SpawnError::shutdown: the executor has shut down (was dropped).
  static SpawnError shutdown(const std::string& what) { return SpawnError(what, true); }
  // A refused spawn for another reason (e.g. from the wrong thread).
  static SpawnError misuse(const std::string& what) { return SpawnError(what, false); }
  bool is_shutdown() const noexcept { return shutdown_; }

 private:
  SpawnError(const std::string& what, bool shutdown)
      : std::runtime_error(what), shutdown_(shutdown) {}
  bool shutdown_;
};

}  // namespace pollwake

#endif  // POLLWAKE_EXECUTOR_SPAWN_ERROR_H_
