// Exercise 07: find a double drop.               (docs chapters 3, 11, 12)
//
// A Ticket is a resource with one owner: dropping the owner releases it,
// once. A Rust move copies the bytes and forgets the source: nothing is left
// to drop. A C++ move leaves the source alive, and its destructor still
// runs. Somewhere below, one Ticket is released twice. The test moves a
// Ticket the way futures move (into a future, into a box, out of a select)
// and counts the releases.
//
// HINT: look at what a moved-from Ticket's destructor does. A move must
// HINT: disarm the source (std::exchange(other.id_, -1)), as the examples'
// HINT: event futures do.
#ifndef POLLWAKE_EXERCISES_07_DOUBLE_DROP_H_
#define POLLWAKE_EXERCISES_07_DOUBLE_DROP_H_

#include <map>
#include <utility>

#include "exercises/support.h"

namespace exercises {

// Ledger: how often each ticket id was released.
struct Ledger {
  std::map<int, int> released;
};

class Ticket {
 public:
  Ticket(Ledger& ledger, int id) : ledger_(&ledger), id_(id) {}
  Ticket(Ticket&& other) noexcept : ledger_(other.ledger_), id_(other.id_) {}
  Ticket& operator=(Ticket&&) = delete;
  ~Ticket() {
    if (id_ >= 0) ++ledger_->released[id_];
  }
  int id() const { return id_; }

 private:
  Ledger* ledger_;
  int id_;  // -1: moved from, owns nothing
};

// A future that holds a Ticket until it is Ready, then hands it over.
class TicketFuture {
 public:
  using Output = Ticket;
  explicit TicketFuture(Ticket t) : ticket_(std::move(t)) {}
  Poll<Ticket> poll(Context&) { return Ready(std::move(ticket_)); }

 private:
  Ticket ticket_;
};

}  // namespace exercises

#endif  // POLLWAKE_EXERCISES_07_DOUBLE_DROP_H_
