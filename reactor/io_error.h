// reactor/io_error.h
//
// Models Rust's `std::io::Error` and `std::io::Result<T>` as far as the
// reactor's sockets need them: an error is a value carrying the operating
// system's errno (`raw_os_error()`) and a coarse `ErrorKind`.
//
//   Rust                              pollwake
//   io::Result<T>                     IoResult<T> = Result<T, IoError>
//   io::Error::last_os_error()        IoError::last_os_error()
//   err.raw_os_error() -> Option<i32> err.raw_os_error()  (0 when none)
//   err.kind() -> ErrorKind           err.kind()
//   ErrorKind::ConnectionRefused ...  ErrorKind::kConnectionRefused ...
//
// How pollwake differs, and why: Rust's ErrorKind has no variant for "too
// many open files" (EMFILE is `Uncategorized`); pollwake names it
// (kTooManyOpenFiles) because running out of descriptors is the failure a
// server must survive, and its tests check for it. `kReactorGone` is tokio's
// "A Tokio 1.x context was found, but it is being shutdown" error: an I/O
// object outlived the reactor that served it. `WouldBlock` never reaches a
// caller: the socket futures turn EAGAIN into Pending and wait for readiness.
#ifndef POLLWAKE_REACTOR_IO_ERROR_H_
#define POLLWAKE_REACTOR_IO_ERROR_H_

#include <cerrno>
#include <cstring>
#include <string>

#include "poll/result.h"

namespace pollwake::reactor {

enum class ErrorKind {
  kConnectionRefused,  // ECONNREFUSED
  kConnectionReset,    // ECONNRESET
  kBrokenPipe,         // EPIPE: writing after the peer closed
  kNotConnected,       // ENOTCONN
  kAddrInUse,          // EADDRINUSE
  kInvalidInput,       // EINVAL, a malformed address
  kTooManyOpenFiles,   // EMFILE, ENFILE
  kTimedOut,           // ETIMEDOUT
  kReactorGone,        // the reactor was dropped (no errno)
  kOther,
};

class IoError {
 public:
  explicit IoError(int os_error) : os_error_(os_error), kind_(kind_of(os_error)) {}
  static IoError last_os_error() { return IoError(errno); }
  static IoError reactor_gone() { return IoError(0, ErrorKind::kReactorGone); }
  static IoError invalid_input() { return IoError(EINVAL); }

  ErrorKind kind() const noexcept { return kind_; }
  int raw_os_error() const noexcept { return os_error_; }
  std::string message() const {
    if (kind_ == ErrorKind::kReactorGone) return "the reactor was dropped";
    return std::strerror(os_error_);
  }
  friend bool operator==(const IoError& a, const IoError& b) {
    return a.os_error_ == b.os_error_ && a.kind_ == b.kind_;
  }

 private:
  IoError(int os_error, ErrorKind kind) : os_error_(os_error), kind_(kind) {}
  static ErrorKind kind_of(int e) {
    switch (e) {
      case ECONNREFUSED: return ErrorKind::kConnectionRefused;
      case ECONNRESET: return ErrorKind::kConnectionReset;
      case EPIPE: return ErrorKind::kBrokenPipe;
      case ENOTCONN: return ErrorKind::kNotConnected;
      case EADDRINUSE: return ErrorKind::kAddrInUse;
      case EINVAL: return ErrorKind::kInvalidInput;
      case EMFILE:
      case ENFILE: return ErrorKind::kTooManyOpenFiles;
      case ETIMEDOUT: return ErrorKind::kTimedOut;
      default: return ErrorKind::kOther;
    }
  }
  int os_error_;
  ErrorKind kind_;
};

template <class T>
using IoResult = Result<T, IoError>;

}  // namespace pollwake::reactor

#endif  // POLLWAKE_REACTOR_IO_ERROR_H_
