// executor/block_on.cc: the thread-local parkers behind block_on (see
// block_on.h for the lifetime rules).
#include "executor/block_on.h"

namespace pollwake {
namespace detail {

// Holds this thread's reference to its ThreadParker<S>; gives it up when the
// thread exits. Wakers still out there keep the parker alive after that.
template <class Strategy>
struct ThreadParkerHolderT {
  ThreadParker<Strategy>* parker = new ThreadParker<Strategy>();
  ~ThreadParkerHolderT() {
    ThreadParker<Strategy>::tls_current_ = nullptr;
    parker->release();
  }
};

// The slow path of current(): the first call on this thread.
template <class Strategy>
ThreadParker<Strategy>& ThreadParker<Strategy>::create_current() {
  thread_local ThreadParkerHolderT<Strategy> holder;
  tls_current_ = holder.parker;
  return *holder.parker;
}

template class ThreadParker<CondvarPark>;
template class ThreadParker<FutexPark>;
template class ThreadParker<SpinThenPark>;

}  // namespace detail
}  // namespace pollwake
