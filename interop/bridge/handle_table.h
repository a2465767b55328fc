// interop/bridge/handle_table.h
//
// Models the connection table of the LanceDB C# bridge pattern (Rust: a
// `HashMap<i64, Connection>` behind the runtime, handing out plain id
// numbers to C#), made safe against bad handles with a generation per slot,
// as slotmap / generational-arena do in Rust.
//
// A handle is 64 bits: the slot id in the high half, the slot's generation
// in the low half. Ids start at 1 and generations at 1, so 0 is never a
// handle. Remove() bumps the slot's generation and puts the id on a free
// list; the next Insert() reuses the id with the new generation, so an old
// handle to that slot no longer matches: a closed or stale handle is
// refused, and can never reach the connection that now lives in its slot.
// A slot whose generation would wrap is retired (never reused), so no
// generation repeats (no ABA). A handle whose id was never handed out, or
// whose generation is newer than its slot's (forged), is refused too.
// Outcomes are absl::Status values; the C edge maps kPermissionDenied to
// PWB_BAD_HANDLE.
//
// What it does not do: make handles capabilities. Ids count up from 1 and
// are reused (last freed, first reused), generations count up from 1, so a
// handle is easy to guess, and a handle equal to a live one (guessed,
// copied, or corrupted into it) is that connection: Lookup cannot tell who
// is asking. The table protects against mistakes (a stale handle reaching
// the slot's next occupant), not against code in the same process.
//
// How it differs from the pattern, and why: the pattern's table belongs to
// the runtime thread. This one is guarded by an absl::Mutex, because
// pwb_shutdown empties it from the caller's thread after the runtime thread
// has been joined, and because the table outlives any one runtime: a handle
// from before a shutdown must stay stale after a restart, which needs the
// generations to survive. Lookups return a shared_ptr copy, so a value
// stays alive for a task that is using it while another task removes it.
#ifndef POLLWAKE_INTEROP_BRIDGE_HANDLE_TABLE_H_
#define POLLWAKE_INTEROP_BRIDGE_HANDLE_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "poll/annotated_lock.h"

namespace pollwake::bridge {

template <class T>
class HandleTable {
 public:
  explicit HandleTable(std::size_t max_live) : max_live_(max_live) {}
  HandleTable(const HandleTable&) = delete;
  HandleTable& operator=(const HandleTable&) = delete;

  static std::uint32_t IdOf(std::uint64_t h) { return static_cast<std::uint32_t>(h >> 32); }
  static std::uint32_t GenerationOf(std::uint64_t h) { return static_cast<std::uint32_t>(h); }

  // Stores `value` in a free slot; its handle, or kResourceExhausted.
  absl::StatusOr<std::uint64_t> Insert(std::shared_ptr<T> value) {
    MutexLock lock(&mu_);
    if (live_ >= max_live_) {
      return absl::ResourceExhaustedError("too many open connections");
    }
    std::uint32_t id;
    if (!free_.empty()) {
      id = free_.back();
      free_.pop_back();
    } else {
      if (next_id_ == 0) return absl::ResourceExhaustedError("connection ids used up");
      id = next_id_++;  // wraps to 0 after 2^32 - 1 ids: then refused above
      slots_.emplace(id, Slot{1, nullptr});
    }
    Slot& slot = slots_.at(id);
    slot.value = std::move(value);
    ++live_;
    return (static_cast<std::uint64_t>(id) << 32) | slot.generation;
  }

  // The value `h` refers to, or kPermissionDenied saying why not.
  absl::StatusOr<std::shared_ptr<T>> Lookup(std::uint64_t h) const {
    MutexLock lock(&mu_);
    absl::StatusOr<const Slot*> slot = Find(h);
    if (!slot.ok()) return slot.status();
    return (*slot)->value;
  }

  // Removes and returns the value `h` refers to; the handle is stale from now on.
  absl::StatusOr<std::shared_ptr<T>> Remove(std::uint64_t h) {
    MutexLock lock(&mu_);
    absl::StatusOr<const Slot*> found = Find(h);
    if (!found.ok()) return found.status();
    return Free(IdOf(h));
  }

  // Removes every value (each live handle becomes stale) and returns them,
  // so that the caller destroys them after the lock is released.
  std::vector<std::shared_ptr<T>> Clear() {
    std::vector<std::shared_ptr<T>> out;
    MutexLock lock(&mu_);
    for (auto& [id, slot] : slots_) {
      if (slot.value) out.push_back(Free(id));
    }
    return out;
  }

  std::size_t size() const {
    MutexLock lock(&mu_);
    return live_;
  }

 private:
  struct Slot {
    std::uint32_t generation;  // the generation live handles to this slot carry
    std::shared_ptr<T> value;  // null while the slot is free
  };

  absl::StatusOr<const Slot*> Find(std::uint64_t h) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (h == 0) return absl::PermissionDeniedError("bad handle: the zero handle");
    auto it = slots_.find(IdOf(h));
    if (it == slots_.end()) {
      return absl::PermissionDeniedError("bad handle: no such connection was ever opened");
    }
    const Slot& slot = it->second;
    // Generations only grow: an older one was closed, a newer one never was.
    if (GenerationOf(h) > slot.generation) {
      return absl::PermissionDeniedError("bad handle: forged (its slot never had that generation)");
    }
    if (GenerationOf(h) < slot.generation || !slot.value) {
      return absl::PermissionDeniedError("bad handle: the connection was closed (stale handle)");
    }
    return &slot;
  }

  // Empties slot `id` (which holds a value) and bumps its generation.
  std::shared_ptr<T> Free(std::uint32_t id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Slot& slot = slots_.at(id);
    std::shared_ptr<T> value = std::move(slot.value);
    slot.value = nullptr;
    --live_;
    if (slot.generation == UINT32_MAX) return value;  // retired: no generation repeats
    ++slot.generation;
    free_.push_back(id);
    return value;
  }

  const std::size_t max_live_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::uint32_t, Slot> slots_ ABSL_GUARDED_BY(mu_);
  std::vector<std::uint32_t> free_ ABSL_GUARDED_BY(mu_);  // ids of empty slots
  std::uint32_t next_id_ ABSL_GUARDED_BY(mu_) = 1;        // the next never-used id
  std::size_t live_ ABSL_GUARDED_BY(mu_) = 0;             // slots holding a value
};

}  // namespace pollwake::bridge

#endif  // POLLWAKE_INTEROP_BRIDGE_HANDLE_TABLE_H_
