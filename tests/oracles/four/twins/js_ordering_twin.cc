// tests/oracles/four/twins/js_ordering_twin.cc: the C++ twin of
// js/ordering.js on the promise model (interop/js/). It prints the same
// lines in the same order as node (compared with js/ordering.expected).
#include <cstdio>
#include <stdexcept>
#include <string>

#include "interop/js/event_loop.h"
#include "interop/js/promise.h"

namespace {

using pollwake::Unit;
using namespace pollwake::js;  // NOLINT: the twin reads like the JavaScript

void P(const std::string& s) { std::printf("%s\n", s.c_str()); }

Async<> AsyncBody() {
  P("async body runs at once");
  co_await nullptr;
  P("async body after await null");
}

void Script() {
  P("script start");
  SetTimeout([] { P("timeout A (0 ms)"); }, 0);
  SetTimeout(
      [] {
        P("timeout B (0 ms)");
        Promise<>::Resolve(Unit{}).Then([](const Unit&) { P("microtask queued by timeout B"); });
      },
      0);
  SetTimeout([] { P("timeout C (5 ms)"); }, 5);
  Promise<>::Resolve(Unit{}).Then([](const Unit&) { P("then 1"); }).Then([](const Unit&) { P("then 2 (chained)"); });
  QueueMicrotask([] { P("queueMicrotask"); });
  Promise<>([](ResolveFn<Unit> resolve, RejectFn<Unit>) {
    P("executor runs at once");
    resolve();
  }).Then([](const Unit&) { P("then of a promise resolved in its executor"); });
  (void)AsyncBody();
  Promise<int> one = Promise<int>::Resolve(1);
  Promise<int>([one](ResolveFn<int> resolve, RejectFn<int>) { resolve(one); }).Then([](const int&) {
    P("resolved with a promise: two turns later");
  });
  one.Then([](const int&) { P("then of that promise"); });
  Promise<>::Reject(std::make_exception_ptr(std::runtime_error("x"))).Catch([](std::exception_ptr) {
    P("catch of a rejected promise");
  });
  P("script end");
}

}  // namespace

int main() {
  EventLoop loop;
  loop.Run(Script);
  return 0;
}
