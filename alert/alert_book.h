// The alerts of one appliance and how a rule's finding changes them
// (docs/design.md, "Alerts"): one record per (rule, server), pending, firing
// or resolved, with its event times; the changes an evaluation made (what the
// webhook is sent); the state file the query worker serves as GET /alerts.
//
// Owned by servertrack-alert's evaluation thread; not thread-safe. The state
// file is written whole to a temporary and renamed over the old one, so a
// reader (the query worker) or a restart never sees half of it. O(records).
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "alert/evaluate.h"
#include "alert/rules.h"
#include "shm/window.h"

namespace servertrack::alert {

struct AlertRecord {
  enum class State { pending, firing, resolved };
  std::string rule;
  std::string server;
  std::string severity;
  std::string condition;  // describe_condition() of its rule
  Kind kind = Kind::minutes;
  State state = State::pending;
  std::int64_t starts_at = 0;  // event time the condition began
  std::int64_t ends_at = 0;    // resolved: event time it ended
  std::int64_t last_end = 0;   // minutes: end of the run's newest minute
  double value = 0;
  std::string summary;
  std::int64_t changed_unix = 0;  // wall time of the last change of state
  std::uint64_t seen_round = 0;   // the full evaluation that last found it
};

const char* describe(AlertRecord::State state) noexcept;

struct AlertCounters {
  std::uint64_t evaluations = 0;             // full evaluations of every rule over the fleet
  std::uint64_t notifications_sent = 0;      // HTTP requests a receiver accepted (2xx)
  std::uint64_t notifications_failed = 0;    // attempts that got no answer or a non-2xx
  std::uint64_t notifications_dropped = 0;   // webhook bodies given up after their retries
};

// How long a resolved record stays (and is re-sent to Alertmanager): longer
// than the minute window, so a run still in it is not announced twice.
inline constexpr std::int64_t kKeepResolvedSeconds = 2 * 3600;
inline constexpr std::int64_t kResendResolvedSeconds = 15 * 60;

class AlertBook {
 public:
  // Starts a full evaluation; records not found again before end_round() are
  // of servers deleted or expired (or of rules no longer in the file).
  void begin_round() { ++round_; }
  // Applies what `rule` found on `server` (whose windows are `windows`) at
  // `now`; a change to firing or resolved is appended to changes().
  void apply(const Rule& rule, std::string_view server, const Finding& finding, const shm::Snapshot& windows,
             std::int64_t now);
  // The rule's alert of `server` stays as it is this round (its slot could
  // not be read now: a write in the way).
  void keep(std::string_view rule, std::string_view server);
  // Ends the round: a firing alert not found in it is resolved at `now`, a
  // pending one dropped; resolved records older than kKeepResolvedSeconds go.
  void end_round(std::int64_t now);

  // Looked up by string_view (no key built per lookup): see key().
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const noexcept { return std::hash<std::string_view>{}(key); }
  };
  const std::unordered_map<std::string, AlertRecord, KeyHash, std::equal_to<>>& records() const { return records_; }
  std::vector<AlertRecord> take_changes() { return std::exchange(changes_, {}); }
  AlertCounters& counters() { return counters_; }
  const AlertCounters& counters() const { return counters_; }

  // The state file's JSON: the GET /alerts body (README, "Alerts").
  std::string to_json(std::int64_t evaluated_at, std::size_t rule_count) const;
  // Writes to_json() to `path` atomically (temporary + rename); false on error.
  bool save(const std::string& path, std::int64_t evaluated_at, std::size_t rule_count) const;
  // Reads a file save() wrote (records and counters); a missing file is an
  // empty book; an unreadable one: the reason, and the book stays empty.
  std::optional<std::string> load(const std::string& path);

 private:
  void change(AlertRecord& record, AlertRecord::State state, std::int64_t now);
  // The key of (rule, server) in key_, which keeps its buffer: no allocation per lookup.
  std::string_view key(std::string_view rule, std::string_view server);
  std::unordered_map<std::string, AlertRecord, KeyHash, std::equal_to<>> records_;  // by rule '\0' server
  std::string key_;
  std::vector<AlertRecord> changes_;
  AlertCounters counters_;
  std::uint64_t round_ = 0;
};

// An alert's summary annotation, e.g. "web-01: cpu above 90 for 5 minutes,
// from 10:02 to 10:17 UTC (last 95.2)".
std::string summarize(const AlertRecord& record);

// "2026-12-07T10:02:00Z", as Alertmanager's API and the state file write times.
std::string rfc3339(std::int64_t unix_seconds);

}  // namespace servertrack::alert
