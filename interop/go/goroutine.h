// interop/go/goroutine.h
//
// Models Go's `go f()` and `context.WithCancel` for a thread-per-goroutine
// twin: each goroutine is a std::thread.
//
//   Go                                     pollwake::go
//   go f()                                 Go(f)
//   runtime.Gosched()                      Gosched()
//   ctx, cancel := context.WithCancel(bg)  auto [ctx, cancel] = WithCancel();
//   <-ctx.Done(); ctx.Err()                ctx.Done().Recv(); ctx.Err()
//   (main returns: other goroutines die)   Goroutines::JoinAll() before main returns
//
// Go's model, in short (the chapter docs/10_four_answers.md has the long
// form): there are no async functions. Every function is an ordinary one
// that may block; `go f()` starts f concurrently and returns at once; the
// runtime multiplexes goroutines on a few OS threads (GOMAXPROCS of them
// run Go code at once), parks a goroutine that blocks on a channel and runs
// another, and since Go 1.14 preempts one that runs too long, even in a loop
// without calls. Stacks are growable, so a goroutine can block in the middle
// of any call chain (stackful), and no function needs a color.
//
// How this twin differs, and why: a thread per goroutine gives the same
// promises (concurrent, preemptive, blocking anywhere), which is what the
// twin checks, at OS-thread cost. Go kills running goroutines when main
// returns; C++ must not exit with joinable threads, so Go() records each
// thread and the program calls Goroutines::JoinAll() (a goroutine that
// never ends would then hang the twin, where Go would drop it). A panic
// that leaves a goroutine ends the whole Go program; an exception that
// leaves a Go() thread calls std::terminate, the same outcome.
#ifndef POLLWAKE_INTEROP_GO_GOROUTINE_H_
#define POLLWAKE_INTEROP_GO_GOROUTINE_H_

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "interop/go/chan.h"
#include "poll/poll.h"

namespace pollwake::go {

using pollwake::Unit;

class Goroutines {
 public:
  static void Start(std::function<void()> f) {
    std::lock_guard<std::mutex> lock(mu());
    threads().emplace_back(std::move(f));
  }
  // Joins every goroutine started so far (including ones they start).
  static void JoinAll() {
    for (;;) {
      std::vector<std::thread> batch;
      {
        std::lock_guard<std::mutex> lock(mu());
        batch.swap(threads());
      }
      if (batch.empty()) return;
      for (std::thread& t : batch) t.join();
    }
  }

 private:
  static std::mutex& mu() {
    static std::mutex m;
    return m;
  }
  static std::vector<std::thread>& threads() {
    static std::vector<std::thread> v;  // guarded by mu()
    return v;
  }
};

// go f()
inline void Go(std::function<void()> f) { Goroutines::Start(std::move(f)); }

// runtime.Gosched(): lets other goroutines run.
inline void Gosched() { std::this_thread::yield(); }

// context.Context with cancellation: Done() is closed once, by the cancel
// function (idempotent, as Go's CancelFunc); Err() is "" until then, then
// "context canceled".
class Context {
 public:
  Chan<Unit> Done() const { return s_->done; }
  std::string Err() const {
    std::lock_guard<std::mutex> lock(s_->mu);
    return s_->canceled ? "context canceled" : "";
  }

 private:
  friend std::pair<Context, std::function<void()>> WithCancel();
  struct State {
    std::mutex mu;
    bool canceled = false;  // guarded by mu
    Chan<Unit> done;
  };
  Context() : s_(std::make_shared<State>()) {}
  std::shared_ptr<State> s_;
};

// context.WithCancel(context.Background()).
inline std::pair<Context, std::function<void()>> WithCancel() {
  Context ctx;
  auto s = ctx.s_;
  return {ctx, [s] {
            std::lock_guard<std::mutex> lock(s->mu);
            if (s->canceled) return;
            s->canceled = true;
            s->done.Close();  // wakes every <-ctx.Done()
          }};
}

}  // namespace pollwake::go

#endif  // POLLWAKE_INTEROP_GO_GOROUTINE_H_
