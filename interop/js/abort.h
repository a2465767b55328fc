// interop/js/abort.h
//
// Models the DOM's `AbortController` / `AbortSignal` as node provides them,
// and the `DOMException` whose name is "AbortError".
//
//   JavaScript                                    pollwake::js
//   const ac = new AbortController()              AbortController ac;
//   ac.signal                                     ac.Signal()
//   ac.abort() / ac.abort(reason)                 ac.Abort() / ac.Abort(reason)
//   signal.aborted / signal.reason                signal.Aborted() / signal.Reason()
//   signal.addEventListener('abort', f, {once})   signal.AddEventListener(f, once)
//   signal.throwIfAborted()                       signal.ThrowIfAborted()
//   e.name                                        DOMException::Name()
//
// What a reader may rely on: Abort() sets the flag and the reason, then runs
// the listeners synchronously, in the order they were added, before it
// returns; a second Abort() does nothing. Without a reason the reason is a
// DOMException named "AbortError" ("This operation was aborted", node's
// text). A listener added after the abort never runs (the event has been
// dispatched), as in the DOM. Nothing else is interrupted: an operation
// notices only through its listener or by looking at the signal, as with
// C#'s CancellationToken (interop/csharp/cancellation.h).
//
// How pollwake differs: a reason is a std::exception_ptr; removeEventListener
// and AbortSignal.timeout/any are not modelled. One thread, as in JavaScript.
#ifndef POLLWAKE_INTEROP_JS_ABORT_H_
#define POLLWAKE_INTEROP_JS_ABORT_H_

#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace pollwake::js {

class DOMException : public std::runtime_error {
 public:
  DOMException(const std::string& message, std::string name) : std::runtime_error(message), name_(std::move(name)) {}
  const std::string& Name() const noexcept { return name_; }

 private:
  std::string name_;
};

class AbortSignal {
 public:
  bool Aborted() const noexcept { return state_->aborted; }
  // The reason; null until aborted.
  std::exception_ptr Reason() const noexcept { return state_->reason; }
  void ThrowIfAborted() const {
    if (state_->aborted) std::rethrow_exception(state_->reason);
  }
  void AddEventListener(std::function<void()> listener, bool once = false) const {
    if (state_->aborted) return;  // already dispatched
    state_->listeners.push_back({std::move(listener), once});
  }

 private:
  friend class AbortController;
  struct Listener {
    std::function<void()> run;
    bool once;
  };
  struct State {
    bool aborted = false;
    std::exception_ptr reason;
    std::vector<Listener> listeners;
  };
  explicit AbortSignal(std::shared_ptr<State> s) : state_(std::move(s)) {}
  std::shared_ptr<State> state_;
};

class AbortController {
 public:
  AbortController() : state_(std::make_shared<AbortSignal::State>()) {}
  AbortSignal Signal() const { return AbortSignal(state_); }

  void Abort(std::exception_ptr reason = nullptr) {
    if (state_->aborted) return;
    state_->aborted = true;
    state_->reason = reason != nullptr
                         ? std::move(reason)
                         : std::make_exception_ptr(DOMException("This operation was aborted", "AbortError"));
    // The event is dispatched once, so every listener runs once whether or
    // not it asked for {once: true}; the list is then empty.
    std::vector<AbortSignal::Listener> listeners;
    listeners.swap(state_->listeners);
    for (AbortSignal::Listener& l : listeners) l.run();
  }

 private:
  std::shared_ptr<AbortSignal::State> state_;
};

}  // namespace pollwake::js

#endif  // POLLWAKE_INTEROP_JS_ABORT_H_
