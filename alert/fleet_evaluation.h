// Every rule over every server it watches (docs/design.md, "Alerts"): the
// minute's full evaluation, and the quick one of servers whose past minutes
// just filled in (a spool replayed after a partition).
//
// Owned by servertrack-alert's main thread; not thread-safe. A full
// evaluation walks the table once and reads each watched server's windows
// once (shm::Segment::snapshot() into one kept Snapshot: a slot copy, no
// allocation), whatever the number of rules: O(servers x rules) evaluations
// of at most 60 buckets each. The quick one reads only each slot's first
// line (the table walk) and the windows of the servers that moved.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "alert/alert_book.h"
#include "alert/evaluate.h"
#include "alert/rules.h"
#include "shm/segment.h"

namespace servertrack::alert {

class FleetEvaluation {
 public:
  FleetEvaluation(shm::Segment& segment, const std::vector<Rule>& rules);

  // One round of every rule over every live server at `now`; a firing alert
  // of a server deleted or expired is resolved (AlertBook::end_round()).
  void evaluate_all(std::int64_t now);
  // Evaluates only the servers whose newest sample moved since the last walk
  // after it had been older than the newest complete minute: their complete
  // minutes changed (a late spool), so they are judged now rather than at the
  // next minute.
  void evaluate_caught_up(std::int64_t now);

  AlertBook& book() { return book_; }
  // Seconds the last full evaluation took (steady clock).
  double last_duration() const { return last_duration_; }
  // The counters and the alerts by state, in Prometheus' text format,
  // written to a temporary and renamed; false on error.
  bool save_metrics(const std::string& path) const;

 private:
  void evaluate_server(const shm::ServerEntry& entry, std::int64_t now);

  shm::Segment& segment_;
  const std::vector<Rule>& rules_;
  AlertBook book_;
  std::unique_ptr<shm::Snapshot> windows_;
  std::vector<std::int64_t> newest_;  // by slot: its server's newest sample at the last walk
  // By slot: its server may have a record in the book (a rule found something
  // there last time, or the book was just loaded). A server no rule finds
  // anything on and none had is not looked up in the book: most servers, most
  // of the time, so an evaluation costs the windows and the rules, not a hash
  // lookup per rule.
  std::vector<std::uint8_t> maybe_recorded_;
  std::vector<Finding> findings_;  // one per rule, reused
  double last_duration_ = 0;
};

}  // namespace servertrack::alert
