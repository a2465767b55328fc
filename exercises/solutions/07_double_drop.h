// Solution to exercise 07: the move constructor disarms its source, so only
// the last owner releases the ticket (what a Rust move gives for free).
#ifndef POLLWAKE_EXERCISES_07_DOUBLE_DROP_H_
#define POLLWAKE_EXERCISES_07_DOUBLE_DROP_H_

#include <map>
#include <utility>

#include "exercises/support.h"

namespace exercises {

struct Ledger {
  std::map<int, int> released;
};

class Ticket {
 public:
  Ticket(Ledger& ledger, int id) : ledger_(&ledger), id_(id) {}
  Ticket(Ticket&& other) noexcept
      : ledger_(other.ledger_), id_(std::exchange(other.id_, -1)) {}
  Ticket& operator=(Ticket&&) = delete;
  ~Ticket() {
    if (id_ >= 0) ++ledger_->released[id_];
  }
  int id() const { return id_; }

 private:
  Ledger* ledger_;
  int id_;  // -1: moved from, owns nothing
};

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
