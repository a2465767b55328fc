// tests/interop/js_promise_test.cc: js::EventLoop, js::Promise, js::Async,
// All/AllSettled, AbortController. The orders asserted here are node's (the
// oracle //tests/oracles/four:js_ordering_real_test checks the same rules
// against node itself).
#include "interop/js/promise.h"

#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "interop/js/abort.h"
#include "interop/js/event_loop.h"

namespace pollwake::js {
namespace {

using Log = std::vector<std::string>;

TEST(PromiseTest, ExecutorRunsAtOnceAndThenRunsAfterTheCurrentJob) {
  Log log;
  EventLoop loop;
  loop.Run([&] {
    Promise<int>([&](ResolveFn<int> resolve, RejectFn<int>) {
      log.push_back("executor");
      resolve(1);
    }).Then([&](const int& v) { log.push_back("then " + std::to_string(v)); });
    log.push_back("sync after");
  });
  EXPECT_EQ(log, (Log{"executor", "sync after", "then 1"}));
}

TEST(PromiseTest, MicrotasksBeforeTimersEvenZeroMs) {
  Log log;
  EventLoop loop;
  loop.Run([&] {
    SetTimeout([&] { log.push_back("timeout"); }, 0);
    Promise<>::Resolve(Unit{}).Then([&](const Unit&) { log.push_back("then"); });
    log.push_back("sync");
  });
  EXPECT_EQ(log, (Log{"sync", "then", "timeout"}));
}

TEST(PromiseTest, TimersRunByDueTimeThenCallOrder) {
  Log log;
  EventLoop loop;
  loop.Run([&] {
    SetTimeout([&] { log.push_back("10ms"); }, 10);
    SetTimeout([&] { log.push_back("0ms first"); }, 0);
    SetTimeout([&] { log.push_back("1ms second"); }, 1);  // 0 counts as 1: a tie, call order wins
  });
  EXPECT_EQ(log, (Log{"0ms first", "1ms second", "10ms"}));
  EXPECT_EQ(loop.Now(), 10);
}

TEST(PromiseTest, SecondResolveAndRejectAfterResolveDoNothing) {
  Log log;
  EventLoop loop;
  loop.Run([&] {
    Promise<int>([](ResolveFn<int> resolve, RejectFn<int> reject) {
      resolve(1);
      resolve(2);
      reject(std::make_exception_ptr(std::runtime_error("late")));
    }).Then([&](const int& v) { log.push_back(std::to_string(v)); },
            [&](std::exception_ptr) { log.push_back("rejected"); });
  });
  EXPECT_EQ(log, (Log{"1"}));
}

TEST(PromiseTest, ThrowingExecutorRejects) {
  std::string message;
  EventLoop loop;
  loop.Run([&] {
    Promise<int>([](ResolveFn<int>, RejectFn<int>) { throw std::runtime_error("boom"); })
        .Catch([&](std::exception_ptr e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& x) {
            message = x.what();
          }
          return 0;
        });
  });
  EXPECT_EQ(message, "boom");
}

TEST(PromiseTest, ResolvingWithItselfRejectsWithTypeError) {
  bool type_error = false;
  EventLoop loop;
  loop.Run([&] {
    auto r = Promise<int>::WithResolvers();
    r.resolve(r.promise);
    r.promise.Catch([&](std::exception_ptr e) {
      try {
        std::rethrow_exception(e);
      } catch (const TypeError&) {
        type_error = true;
      }
      return 0;
    });
  });
  EXPECT_TRUE(type_error);
}

TEST(PromiseTest, ThenCallbackReturningAPromiseIsAdopted) {
  Log log;
  EventLoop loop;
  loop.Run([&] {
    Promise<>::Resolve(Unit{})
        .Then([](const Unit&) { return Promise<int>::Resolve(7); })
        .Then([&](const int& v) { log.push_back("adopted " + std::to_string(v)); });
  });
  EXPECT_EQ(log, (Log{"adopted 7"}));
}

Async<int> Body(Log* log) {
  log->push_back("body start");
  co_await nullptr;
  log->push_back("body after await");
  co_return 5;
}

TEST(AsyncTest, BodyRunsAtOnceAndAwaitAlwaysYields) {
  Log log;
  EventLoop loop;
  loop.Run([&] {
    Promise<int> p = Body(&log);
    log.push_back("caller after call");
    p.Then([&](const int& v) { log.push_back("result " + std::to_string(v)); });
  });
  EXPECT_EQ(log, (Log{"body start", "caller after call", "body after await", "result 5"}));
}

Async<int> Thrower() {
  co_await nullptr;
  throw std::runtime_error("inside");
}

Async<std::string> Catcher() {
  try {
    co_await Thrower();
    co_return "no exception";
  } catch (const std::runtime_error& e) {
    co_return std::string("caught ") + e.what();
  }
}

TEST(AsyncTest, RejectionIsThrownAtTheAwait) {
  std::string out;
  EventLoop loop;
  loop.Run([&] { Catcher().promise().Then([&](const std::string& s) { out = s; }); });
  EXPECT_EQ(out, "caught inside");
}

TEST(AllTest, RejectsAtTheFirstRejectionWithoutWaitingForTheOthers) {
  Log log;
  EventLoop loop;
  loop.Run([&] {
    auto a = Promise<int>::WithResolvers();
    auto b = Promise<int>::WithResolvers();
    All<int>({a.promise, b.promise}).Then([&](const std::vector<int>&) { log.push_back("all fulfilled"); },
                                          [&](std::exception_ptr) { log.push_back("all rejected"); });
    b.reject(std::make_exception_ptr(std::runtime_error("b")));
    SetTimeout(
        [&, a] {
          log.push_back("a resolves later");
          a.resolve(1);
        },
        1);
  });
  EXPECT_EQ(log, (Log{"all rejected", "a resolves later"}));
}

TEST(AllTest, ValuesInArgumentOrderAndAllSettledWaitsForEvery) {
  std::vector<int> values;
  std::vector<bool> fulfilled;
  EventLoop loop;
  loop.Run([&] {
    auto a = Promise<int>::WithResolvers();
    auto b = Promise<int>::WithResolvers();
    All<int>({a.promise, b.promise}).Then([&](const std::vector<int>& v) { values = v; });
    auto c = Promise<int>::WithResolvers();
    AllSettled<int>({a.promise, c.promise}).Then([&](const std::vector<Settled<int>>& s) {
      for (const auto& o : s) fulfilled.push_back(o.fulfilled);
    });
    b.resolve(2);
    a.resolve(1);
    c.reject(std::make_exception_ptr(std::runtime_error("c")));
  });
  EXPECT_EQ(values, (std::vector<int>{1, 2}));
  EXPECT_EQ(fulfilled, (std::vector<bool>{true, false}));
}

TEST(AllTest, EmptyFulfillsAtOnce) {
  bool done = false;
  EventLoop loop;
  loop.Run([&] { All<int>({}).Then([&](const std::vector<int>& v) { done = v.empty(); }); });
  EXPECT_TRUE(done);
}

TEST(EventLoopTest, MisuseOutsideOrInsideALoopThrows) {
  EXPECT_THROW(QueueMicrotask([] {}), std::logic_error);
  EXPECT_THROW(SetTimeout([] {}, 0), std::logic_error);
  EXPECT_THROW((void)Promise<>::Resolve(Unit{}).Then([](const Unit&) {}), std::logic_error);
  EventLoop loop;
  bool threw = false;
  loop.Run([&] {
    EventLoop inner;
    try {
      inner.Run([] {});
    } catch (const std::logic_error&) {
      threw = true;
    }
  });
  EXPECT_TRUE(threw);
}

TEST(EventLoopTest, ACallbackThatThrowsEndsRunAndLeavesNoLoopCurrent) {
  Log log;
  EventLoop loop;
  EXPECT_THROW(loop.Run([&] {
    QueueMicrotask([] { throw std::runtime_error("uncaught"); });
    QueueMicrotask([&] { log.push_back("never"); });
  }),
               std::runtime_error);
  EXPECT_TRUE(log.empty());
  EXPECT_THROW(EventLoop::Current(), std::logic_error);
}

TEST(AbortControllerTest, AbortRunsListenersInOrderOnceWithAnAbortError) {
  Log log;
  AbortController ac;
  AbortSignal s = ac.Signal();
  s.AddEventListener([&] { log.push_back("first"); });
  s.AddEventListener([&] { log.push_back("second"); }, /*once=*/true);
  EXPECT_FALSE(s.Aborted());
  EXPECT_NO_THROW(s.ThrowIfAborted());
  ac.Abort();
  ac.Abort();
  EXPECT_EQ(log, (Log{"first", "second"}));
  EXPECT_TRUE(s.Aborted());
  try {
    s.ThrowIfAborted();
    FAIL() << "did not throw";
  } catch (const DOMException& e) {
    EXPECT_EQ(e.Name(), "AbortError");
  }
  s.AddEventListener([&] { log.push_back("late"); });  // the event is over
  EXPECT_EQ(log.size(), 2u);
}

TEST(AbortControllerTest, AbortWithAReason) {
  AbortController ac;
  ac.Abort(std::make_exception_ptr(std::runtime_error("why")));
  EXPECT_THROW(ac.Signal().ThrowIfAborted(), std::runtime_error);
}

}  // namespace
}  // namespace pollwake::js
