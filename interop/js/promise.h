// interop/js/promise.h
//
// Models JavaScript's `Promise` and `async function` (ECMAScript 2017+, as
// node runs them) on the job queues of event_loop.h, with C++20 coroutines
// for async functions.
//
//   JavaScript                                 pollwake::js
//   new Promise((resolve, reject) => ...)      Promise<T>([](auto resolve, auto reject) { ... })
//   Promise.withResolvers()                    Promise<T>::WithResolvers()
//   Promise.resolve(v) / Promise.reject(e)     Promise<T>::Resolve(v) / Promise<T>::Reject(e)
//   p.then(f) / p.then(f, r) / p.catch(r)      p.Then(f) / p.Then(f, r) / p.Catch(r)
//   Promise.all(ps) / Promise.allSettled(ps)   All(ps) / AllSettled(ps)
//   async function f() { ... return v; }       Async<T> f() { ... co_return v; }
//   await p / await null                       co_await p / co_await nullptr
//   undefined                                  Unit (Promise<> is Promise<Unit>)
//
// What a reader may rely on (the ECMAScript rules):
//   * The executor runs at once, inside the constructor; if it throws, the
//     promise is rejected. Resolving or rejecting a second time does nothing.
//   * Reactions never run synchronously: when a promise settles, each
//     reaction registered with then (or by an await) becomes a microtask, in
//     registration order; then() on a settled promise queues it at once.
//   * Resolving a promise with another promise p adopts p's state, which
//     takes two microtask turns (a job that calls p.then, then the reaction).
//   * An async function is eager: calling it runs the body now, on the
//     caller's stack, up to the first `co_await`; it returns its promise then.
//   * `co_await x` ALWAYS suspends, even when x is already settled (and
//     `co_await nullptr`, JavaScript's `await null`, too): the rest of the
//     body is a microtask queued when x settles. This is the difference with
//     C#, whose await of a completed task goes on synchronously.
//   * `co_return v` fulfills the function's promise; an exception that
//     leaves the body rejects it; an awaited rejection is thrown at the
//     `co_await`.
//   * All(ps) rejects as soon as one of ps rejects (its reaction runs) and
//     does not wait for, or stop, the others; it fulfills with the values in
//     argument order. AllSettled(ps) waits for every one.
//
// How pollwake differs, and why: JavaScript values are dynamically typed and
// garbage-collected. Here a Promise<T> is a typed shared handle, rejection
// reasons are std::exception_ptr, and a then() callback returns either a
// value or a Promise<U> (a thenable other than Promise is not modelled). An
// async function's frame lives until its body ends; one suspended on a
// promise that never settles is never freed (the garbage collector would
// free it). Unhandled rejections are not tracked (node reports them and, by
// default, exits). Everything runs on the loop's one thread.
#ifndef POLLWAKE_INTEROP_JS_PROMISE_H_
#define POLLWAKE_INTEROP_JS_PROMISE_H_

#include <coroutine>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "interop/js/event_loop.h"
#include "poll/poll.h"

namespace pollwake::js {

using pollwake::Unit;

// TypeError: JavaScript's exception of that name (resolving a promise with
// itself).
class TypeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <class T = Unit>
class Promise;

namespace detail {

template <class T>
struct PromiseState : std::enable_shared_from_this<PromiseState<T>> {
  enum class Status { kPending, kFulfilled, kRejected };
  using Reaction = std::function<void(const PromiseState&)>;

  Status status = Status::kPending;
  std::optional<T> value;
  std::exception_ptr reason;
  std::vector<Reaction> reactions;  // while pending, in registration order

  // PerformPromiseThen's queueing half: a reaction runs as a microtask once
  // the promise is settled (at once if it already is). The job keeps the
  // state alive; a pending state does not own itself.
  void AddReaction(Reaction r) {
    if (status == Status::kPending) {
      reactions.push_back(std::move(r));
    } else {
      QueueMicrotask([r = std::move(r), self = this->shared_from_this()] { r(*self); });
    }
  }
  void Fulfill(T v) {
    value.emplace(std::move(v));
    Settle(Status::kFulfilled);
  }
  void Reject(std::exception_ptr e) {
    reason = std::move(e);
    Settle(Status::kRejected);
  }

 private:
  void Settle(Status s) {
    status = s;
    std::vector<Reaction> ready;
    ready.swap(reactions);
    for (Reaction& r : ready) {
      QueueMicrotask([r = std::move(r), self = this->shared_from_this()] { r(*self); });
    }
  }
};

template <class R>
struct Unwrap {
  using type = R;
};
template <>
struct Unwrap<void> {
  using type = Unit;
};
template <class U>
struct Unwrap<Promise<U>> {
  using type = U;
};

}  // namespace detail

// The resolve function of a promise (CreateResolvingFunctions): shares the
// "already resolved" flag with its reject function.
template <class T>
class ResolveFn {
 public:
  void operator()(T v) const;
  void operator()(Promise<T> p) const;
  void operator()() const
    requires std::is_same_v<T, Unit>
  {
    (*this)(Unit{});
  }

 private:
  friend class Promise<T>;
  ResolveFn(std::shared_ptr<detail::PromiseState<T>> s, std::shared_ptr<bool> done)
      : state_(std::move(s)), done_(std::move(done)) {}
  std::shared_ptr<detail::PromiseState<T>> state_;
  std::shared_ptr<bool> done_;
};

template <class T>
class RejectFn {
 public:
  void operator()(std::exception_ptr e) const {
    if (*done_) return;
    *done_ = true;
    state_->Reject(std::move(e));
  }

 private:
  friend class Promise<T>;
  RejectFn(std::shared_ptr<detail::PromiseState<T>> s, std::shared_ptr<bool> done)
      : state_(std::move(s)), done_(std::move(done)) {}
  std::shared_ptr<detail::PromiseState<T>> state_;
  std::shared_ptr<bool> done_;
};

template <class T>
class Promise {
 public:
  using Value = T;

  struct WithResolversResult {
    Promise promise;
    ResolveFn<T> resolve;
    RejectFn<T> reject;
  };

  // new Promise(executor): runs executor(resolve, reject) now.
  template <class Executor>
    requires std::is_invocable_v<Executor&, ResolveFn<T>, RejectFn<T>>
  explicit Promise(Executor&& executor) : state_(std::make_shared<detail::PromiseState<T>>()) {
    auto done = std::make_shared<bool>(false);
    RejectFn<T> reject(state_, done);
    try {
      executor(ResolveFn<T>(state_, done), reject);
    } catch (...) {
      reject(std::current_exception());
    }
  }

  // Promise.withResolvers().
  static WithResolversResult WithResolvers() {
    Promise p(PendingTag{});
    auto done = std::make_shared<bool>(false);
    return {p, ResolveFn<T>(p.state_, done), RejectFn<T>(p.state_, done)};
  }
  // Promise.resolve(v): already fulfilled. Promise.resolve(p) returns p.
  static Promise Resolve(T v) {
    Promise p(PendingTag{});
    p.state_->Fulfill(std::move(v));
    return p;
  }
  static Promise Resolve(Promise p) { return p; }
  // Promise.reject(e): already rejected.
  static Promise Reject(std::exception_ptr e) {
    Promise p(PendingTag{});
    p.state_->Reject(std::move(e));
    return p;
  }

  bool IsPending() const noexcept { return state_->status == detail::PromiseState<T>::Status::kPending; }

  // p.then(onFulfilled, onRejected): onFulfilled(const T&) and
  // onRejected(std::exception_ptr) return the same type R (a value, void, or
  // a Promise<U>); the result is a Promise of that value.
  template <class F, class R>
  auto Then(F on_fulfilled, R on_rejected) const {
    using Out = std::invoke_result_t<F&, const T&>;
    static_assert(std::is_same_v<Out, std::invoke_result_t<R&, std::exception_ptr>>,
                  "Then: both callbacks must return the same type");
    return ThenImpl<Out>(std::move(on_fulfilled), std::move(on_rejected));
  }
  // p.then(onFulfilled): a rejection passes through to the result.
  template <class F>
  auto Then(F on_fulfilled) const {
    using Out = std::invoke_result_t<F&, const T&>;
    return ThenImpl<Out>(std::move(on_fulfilled), nullptr);
  }
  // p.catch(onRejected): onRejected returns a T (void when T is Unit).
  template <class R>
  Promise Catch(R on_rejected) const {
    using Out = std::invoke_result_t<R&, std::exception_ptr>;
    auto identity = [](const T& v) -> Out {
      if constexpr (std::is_void_v<Out>) {
        (void)v;
      } else {
        return v;
      }
    };
    return ThenImpl<Out>(identity, std::move(on_rejected));
  }

  // The raw reaction (used by `co_await` and All): runs as a microtask once
  // this settles, with the settled state.
  void AddReaction(typename detail::PromiseState<T>::Reaction r) const { state_->AddReaction(std::move(r)); }

 private:
  friend class ResolveFn<T>;
  struct PendingTag {};
  explicit Promise(PendingTag) : state_(std::make_shared<detail::PromiseState<T>>()) {}

  template <class Out, class F, class R>
  auto ThenImpl(F on_fulfilled, R on_rejected) const {
    using U = typename detail::Unwrap<Out>::type;
    auto derived = Promise<U>::WithResolvers();
    auto call = [resolve = derived.resolve, reject = derived.reject](auto&& fn, auto&& arg) {
      try {
        if constexpr (std::is_void_v<Out>) {
          fn(arg);
          resolve(Unit{});
        } else {
          resolve(fn(arg));
        }
      } catch (...) {
        reject(std::current_exception());
      }
    };
    state_->AddReaction([call, on_fulfilled = std::move(on_fulfilled), on_rejected = std::move(on_rejected),
                         reject = derived.reject](const detail::PromiseState<T>& s) mutable {
      if (s.status == detail::PromiseState<T>::Status::kFulfilled) {
        call(on_fulfilled, *s.value);
      } else if constexpr (std::is_same_v<R, std::nullptr_t>) {
        reject(s.reason);  // no onRejected: the rejection passes through
      } else {
        call(on_rejected, s.reason);
      }
    });
    return derived.promise;
  }

  std::shared_ptr<detail::PromiseState<T>> state_;  // never null
};

template <class T>
void ResolveFn<T>::operator()(T v) const {
  if (*done_) return;
  *done_ = true;
  state_->Fulfill(std::move(v));
}

// Resolving with a promise: NewPromiseResolveThenableJob. One microtask
// calls p.then, whose reaction (a second microtask, once p settles) settles
// this promise the same way.
template <class T>
void ResolveFn<T>::operator()(Promise<T> p) const {
  if (*done_) return;
  *done_ = true;
  if (p.state_ == state_) {
    state_->Reject(std::make_exception_ptr(TypeError("Chaining cycle detected for promise #<Promise>")));
    return;
  }
  QueueMicrotask([p, target = state_] {
    p.AddReaction([target](const detail::PromiseState<T>& s) {
      if (s.status == detail::PromiseState<T>::Status::kFulfilled) {
        target->Fulfill(*s.value);
      } else {
        target->Reject(s.reason);
      }
    });
  });
}

// Promise.all(ps): PerformPromiseAll, with one reaction per element.
template <class T>
Promise<std::vector<T>> All(std::vector<Promise<T>> ps) {
  struct Shared {
    std::vector<std::optional<T>> values;
    std::size_t remaining = 1;  // as the spec: 1 until every element is registered
  };
  auto result = Promise<std::vector<T>>::WithResolvers();
  auto shared = std::make_shared<Shared>();
  shared->values.resize(ps.size());
  auto finish = [shared, resolve = result.resolve] {
    if (--shared->remaining != 0) return;
    std::vector<T> out;
    out.reserve(shared->values.size());
    for (auto& v : shared->values) out.push_back(std::move(*v));
    resolve(std::move(out));
  };
  for (std::size_t i = 0; i < ps.size(); ++i) {
    ++shared->remaining;
    ps[i].AddReaction([i, shared, finish, reject = result.reject](const detail::PromiseState<T>& s) {
      if (s.status == detail::PromiseState<T>::Status::kFulfilled) {
        shared->values[i] = *s.value;
        finish();
      } else {
        reject(s.reason);
      }
    });
  }
  finish();
  return result.promise;
}

// One outcome of AllSettled: fulfilled with value, or rejected with reason.
template <class T>
struct Settled {
  bool fulfilled = false;
  std::optional<T> value;
  std::exception_ptr reason;
};

// Promise.allSettled(ps).
template <class T>
Promise<std::vector<Settled<T>>> AllSettled(std::vector<Promise<T>> ps) {
  struct Shared {
    std::vector<Settled<T>> outcomes;
    std::size_t remaining = 1;
  };
  auto result = Promise<std::vector<Settled<T>>>::WithResolvers();
  auto shared = std::make_shared<Shared>();
  shared->outcomes.resize(ps.size());
  auto finish = [shared, resolve = result.resolve] {
    if (--shared->remaining == 0) resolve(std::move(shared->outcomes));
  };
  for (std::size_t i = 0; i < ps.size(); ++i) {
    ++shared->remaining;
    ps[i].AddReaction([i, shared, finish](const detail::PromiseState<T>& s) {
      Settled<T>& o = shared->outcomes[i];
      o.fulfilled = s.status == detail::PromiseState<T>::Status::kFulfilled;
      if (o.fulfilled) {
        o.value = *s.value;
      } else {
        o.reason = s.reason;
      }
      finish();
    });
  }
  finish();
  return result.promise;
}

template <class T = Unit>
class Async;

namespace detail {

// What `co_await p` becomes (the spec's Await): a reaction on p that resumes
// the body as a microtask, with p's value or thrown reason.
template <class U>
class PromiseAwaiter {
 public:
  explicit PromiseAwaiter(Promise<U> p) : promise_(std::move(p)) {}
  bool await_ready() const noexcept { return false; }  // await always yields
  void await_suspend(std::coroutine_handle<> h) {
    // The awaiter lives in the suspended frame, which is not destroyed
    // before it resumes (frames free themselves only at the end).
    promise_.AddReaction([this, h](const PromiseState<U>& s) {
      if (s.status == PromiseState<U>::Status::kFulfilled) {
        value_ = *s.value;
      } else {
        error_ = s.reason;
      }
      h.resume();
    });
  }
  U await_resume() {
    if (error_) std::rethrow_exception(error_);
    return std::move(*value_);
  }

 private:
  Promise<U> promise_;
  std::optional<U> value_;
  std::exception_ptr error_;
};

template <class T>
struct AsyncPromiseBase {
  typename Promise<T>::WithResolversResult result = Promise<T>::WithResolvers();

  std::suspend_never initial_suspend() noexcept { return {}; }  // eager: the body runs now
  std::suspend_never final_suspend() noexcept { return {}; }    // the frame frees itself
  void unhandled_exception() { result.reject(std::current_exception()); }

  template <class U>
  PromiseAwaiter<U> await_transform(Promise<U> p) {
    return PromiseAwaiter<U>(std::move(p));
  }
  template <class U>
  PromiseAwaiter<U> await_transform(Async<U> a) {
    return PromiseAwaiter<U>(a.promise());
  }
  // await null: Promise.resolve(undefined), then the usual turn.
  PromiseAwaiter<Unit> await_transform(std::nullptr_t) { return PromiseAwaiter<Unit>(Promise<>::Resolve(Unit{})); }
};

template <class T>
struct AsyncPromise : AsyncPromiseBase<T> {
  Async<T> get_return_object();
  void return_value(T v) { this->result.resolve(std::move(v)); }
};
template <>
struct AsyncPromise<Unit> : AsyncPromiseBase<Unit> {
  Async<Unit> get_return_object();
  void return_void() { result.resolve(Unit{}); }
};

}  // namespace detail

// Async<T>: the return type of an async function; it is (converts to) the
// function's Promise<T>.
template <class T>
class Async {
 public:
  using promise_type = detail::AsyncPromise<T>;
  Promise<T> promise() const { return promise_; }
  operator Promise<T>() const { return promise_; }  // NOLINT: an async function returns a promise

 private:
  friend struct detail::AsyncPromise<T>;
  explicit Async(Promise<T> p) : promise_(std::move(p)) {}
  Promise<T> promise_;
};

namespace detail {
template <class T>
Async<T> AsyncPromise<T>::get_return_object() {
  return Async<T>(this->result.promise);
}
inline Async<Unit> AsyncPromise<Unit>::get_return_object() { return Async<Unit>(result.promise); }
}  // namespace detail

}  // namespace pollwake::js

#endif  // POLLWAKE_INTEROP_JS_PROMISE_H_
