// interop/csharp/aggregate_exception.h
//
// Models C#'s `System.AggregateException`: one exception that carries the
// exceptions of several operations, as Task.WhenAll, Task.Wait and
// CancellationTokenSource.Cancel report them.
//
//   C#                                   pollwake::csharp
//   new AggregateException(inner...)     AggregateException({ptr...})
//   e.InnerExceptions                    e.InnerExceptions()   (std::exception_ptr each)
//   e.InnerExceptions[i].Message         MessageOf(e.InnerExceptions()[i])
//   e.Message                            e.what()
//
// How pollwake differs, and why: C# exceptions are objects the collector
// keeps alive; a C++ exception is kept alive by std::exception_ptr, so the
// inner exceptions are exception_ptrs, in the order C# lists them (for
// WhenAll: the order of the tasks passed in, not the order they failed).
// Rethrowing one (std::rethrow_exception) is the C++ way to inspect it;
// MessageOf does that for the common case. Flatten() and Handle() are not
// modelled. The message is .NET Framework's (and Mono's) fixed text.
#ifndef POLLWAKE_INTEROP_CSHARP_AGGREGATE_EXCEPTION_H_
#define POLLWAKE_INTEROP_CSHARP_AGGREGATE_EXCEPTION_H_

#include <exception>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace pollwake::csharp {

class AggregateException : public std::exception {
 public:
  // C# throws ArgumentNullException for a null inner exception; here a null
  // exception_ptr throws std::invalid_argument at construction, so every
  // element of InnerExceptions() can be rethrown.
  explicit AggregateException(std::vector<std::exception_ptr> inner) : inner_(std::move(inner)) {
    for (const std::exception_ptr& e : inner_) {
      if (e == nullptr) throw std::invalid_argument("AggregateException: an inner exception is null");
    }
  }

  const char* what() const noexcept override { return "One or more errors occurred."; }

  // AggregateException.InnerException: the first inner exception, or null.
  std::exception_ptr InnerException() const noexcept {
    return inner_.empty() ? nullptr : inner_.front();
  }

  // AggregateException.InnerExceptions: never null, possibly empty.
  const std::vector<std::exception_ptr>& InnerExceptions() const noexcept { return inner_; }

 private:
  std::vector<std::exception_ptr> inner_;
};

// MessageOf(e): e's what() if it is a std::exception (C#'s Exception.Message),
// else a fixed text. `e` must not be null.
inline std::string MessageOf(const std::exception_ptr& e) noexcept {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "(an exception that is not a std::exception)";
  }
}

}  // namespace pollwake::csharp

#endif  // POLLWAKE_INTEROP_CSHARP_AGGREGATE_EXCEPTION_H_
