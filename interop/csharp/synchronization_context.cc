// interop/csharp/synchronization_context.cc (see the header).
#include "interop/csharp/synchronization_context.h"

#include <typeinfo>
#include <utility>

#include "interop/csharp/thread_pool.h"

namespace pollwake::csharp {
namespace {
thread_local SynchronizationContext* t_current = nullptr;
}  // namespace

void SynchronizationContext::Post(std::function<void()> d) {
  ThreadPool::QueueUserWorkItem(std::move(d));
}

SynchronizationContext* SynchronizationContext::Current() noexcept { return t_current; }

void SynchronizationContext::SetSynchronizationContext(SynchronizationContext* context) noexcept {
  t_current = context;
}

SynchronizationContext* SynchronizationContext::CaptureForAwait() noexcept {
  SynchronizationContext* current = t_current;
  if (current == nullptr || typeid(*current) == typeid(SynchronizationContext)) return nullptr;
  return current;
}

void SingleThreadSynchronizationContext::Post(std::function<void()> d) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(d));
    ++posted_;
    cv_.notify_one();  // under the lock: the loop may end and free *this once it sees the item run
  }
}

void SingleThreadSynchronizationContext::RunOnCurrentThread() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return completed_ || !queue_.empty(); });
    if (queue_.empty()) return;  // completed_ and nothing left
    std::function<void()> item = std::move(queue_.front());
    queue_.pop_front();
    ++run_;
    lock.unlock();
    item();  // may Post more items; mu_ is not held
    item = nullptr;
    lock.lock();
  }
}

void SingleThreadSynchronizationContext::Complete() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    completed_ = true;
    // Under the lock: once RunOnCurrentThread sees completed_ it may return
    // and its owner may destroy this context.
    cv_.notify_all();
  }
}

std::size_t SingleThreadSynchronizationContext::PostedCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return posted_;
}

std::size_t SingleThreadSynchronizationContext::RunCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return run_;
}

}  // namespace pollwake::csharp
