// interop/csharp/thread_pool.cc: the pool behind ThreadPool (see the header).
#include "interop/csharp/thread_pool.h"

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "interop/csharp/thread_name.h"

namespace pollwake::csharp {
namespace {

class Pool {
 public:
  Pool() {
    for (std::size_t i = 0; i < ThreadPool::kThreads; ++i) {
      threads_.emplace_back([this] { Work(); });
    }
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

  void Push(std::function<void()> work) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(work));
    }
    cv_.notify_one();
  }

  std::size_t Completed() {
    std::lock_guard<std::mutex> lock(mu_);
    return completed_;
  }

 private:
  void Work() {
    SetThreadName("pool");
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;  // queued items are dropped at exit (see the header)
      std::function<void()> work = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      try {
        work();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "csharp::ThreadPool: unhandled exception in a work item: %s\n", e.what());
        std::terminate();
      } catch (...) {
        std::fprintf(stderr, "csharp::ThreadPool: unhandled exception in a work item\n");
        std::terminate();
      }
      work = nullptr;  // destroy the closure before taking the lock again
      lock.lock();
      ++completed_;
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // written under mu_
  std::size_t completed_ = 0;                // written under mu_
  bool stop_ = false;                        // written under mu_
  std::vector<std::thread> threads_;
};

Pool& Instance() {
  static Pool pool;
  return pool;
}

}  // namespace

void ThreadPool::QueueUserWorkItem(std::function<void()> work) { Instance().Push(std::move(work)); }
std::size_t ThreadPool::CompletedWorkItemCount() { return Instance().Completed(); }

}  // namespace pollwake::csharp
