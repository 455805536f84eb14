// The alerts of one appliance: see alert/alert_book.h.
#include "alert/alert_book.h"

#include <fmt/format.h>
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <tuple>
#include <ctime>

#include "common/json_string.h"

namespace servertrack::alert {
namespace {

std::string key_of(std::string_view rule, std::string_view server) {
  std::string key(rule);
  key.push_back('\0');
  key.append(server);
  return key;
}

std::string clock_time(std::int64_t unix_seconds) {
  const std::time_t t = unix_seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:02}:{:02}", tm.tm_hour, tm.tm_min);
}

}  // namespace

const char* describe(AlertRecord::State state) noexcept {
  switch (state) {
    case AlertRecord::State::pending: return "pending";
    case AlertRecord::State::firing: return "firing";
    case AlertRecord::State::resolved: return "resolved";
  }
  return "";
}

std::string rfc3339(std::int64_t unix_seconds) {
  const std::time_t t = unix_seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

std::string summarize(const AlertRecord& record) {
  const bool resolved = record.state == AlertRecord::State::resolved;
  switch (record.kind) {
    case Kind::minutes:
      return fmt::format("{}: {}, from {} to {} UTC (last minute {:.1f})", record.server, record.condition,
                         clock_time(record.starts_at), clock_time(resolved ? record.ends_at : record.last_end),
                         record.value);
    case Kind::hours:
      return resolved ? fmt::format("{}: {}, from {} to {} UTC", record.server, record.condition,
                                    clock_time(record.starts_at), clock_time(record.ends_at))
                      : fmt::format("{}: {} (mean {:.1f})", record.server, record.condition, record.value);
    case Kind::silent:
      return resolved ? fmt::format("{}: {}, from {} to {} UTC", record.server, record.condition,
                                    clock_time(record.starts_at), clock_time(record.ends_at))
                      : fmt::format("{}: {} (no sample for {:.0f} minutes)", record.server, record.condition,
                                    record.value);
  }
  return "";
}

void AlertBook::change(AlertRecord& record, AlertRecord::State state, std::int64_t now) {
  record.state = state;
  record.changed_unix = now;
  record.summary = summarize(record);
  if (state != AlertRecord::State::pending) changes_.push_back(record);
}

std::string_view AlertBook::key(std::string_view rule, std::string_view server) {
  key_.assign(rule);
  key_.push_back('\0');
  key_.append(server);
  return key_;
}

void AlertBook::apply(const Rule& rule, std::string_view server, const Finding& finding,
                      const shm::Snapshot& windows, std::int64_t now) {
  using State = AlertRecord::State;
  if (finding.state == Finding::State::none && records_.empty()) return;  // the common case: nothing to judge
  auto it = records_.find(key(rule.name, server));
  if (finding.state == Finding::State::none && it == records_.end()) return;
  AlertRecord* record = it == records_.end() ? nullptr : &it->second;
  if (record) record->seen_round = round_;
  // A firing alert ends when the finding no longer holds it (none, or another run).
  if (record && record->state == State::firing &&
      (finding.state == Finding::State::none || finding.starts_at != record->starts_at)) {
    switch (rule.kind) {
      case Kind::minutes: record->ends_at = record->last_end; break;
      case Kind::hours: record->ends_at = now / 3600 * 3600; break;
      case Kind::silent: {
        const std::int64_t since = record->starts_at - std::int64_t{rule.count} * 60;
        record->ends_at = std::max(silence_ended_at(windows, since), record->starts_at);
        break;
      }
    }
    change(*record, State::resolved, now);
  }
  if (finding.state == Finding::State::none) {
    if (record && record->state == State::pending) records_.erase(it);
    return;
  }
  if (record && record->starts_at == finding.starts_at && record->state != State::pending &&
      (record->state == State::resolved || finding.state != Finding::State::resolved)) {
    if (record->state == State::firing) {  // still firing: the newest value
      record->value = finding.value;
      record->last_end = finding.last_end;
      record->summary = summarize(*record);
    }
    return;  // the same episode, already told
  }
  if (!record || record->starts_at != finding.starts_at) {
    AlertRecord fresh;
    fresh.rule = rule.name;
    fresh.server = std::string(server);
    fresh.severity = rule.severity;
    fresh.condition = describe_condition(rule);
    fresh.kind = rule.kind;
    fresh.starts_at = finding.starts_at;
    fresh.seen_round = round_;
    record = &(records_.insert_or_assign(std::string(key(rule.name, server)), std::move(fresh)).first->second);
  }
  record->value = finding.value;
  record->last_end = finding.last_end;
  record->ends_at = finding.ends_at;
  switch (finding.state) {
    case Finding::State::pending: change(*record, State::pending, now); break;
    case Finding::State::firing: change(*record, State::firing, now); break;
    case Finding::State::resolved: change(*record, State::resolved, now); break;
    case Finding::State::none: break;
  }
}

void AlertBook::keep(std::string_view rule, std::string_view server) {
  if (auto it = records_.find(key(rule, server)); it != records_.end()) it->second.seen_round = round_;
}

void AlertBook::end_round(std::int64_t now) {
  for (auto it = records_.begin(); it != records_.end();) {
    AlertRecord& record = it->second;
    const bool absent = record.seen_round != round_;
    if (absent && record.state == AlertRecord::State::firing) {
      record.ends_at = now;
      change(record, AlertRecord::State::resolved, now);
    }
    const bool drop = (absent && record.state == AlertRecord::State::pending) ||
                      (record.state == AlertRecord::State::resolved && now - record.changed_unix > kKeepResolvedSeconds);
    it = drop ? records_.erase(it) : std::next(it);
  }
}

std::string AlertBook::to_json(std::int64_t evaluated_at, std::size_t rule_count) const {
  std::string out = fmt::format(
      "{{\"evaluated_at\":{},\"rules\":{},\"evaluations\":{},\"notifications_sent\":{},"
      "\"notifications_failed\":{},\"notifications_dropped\":{},\"alerts\":[",
      evaluated_at, rule_count, counters_.evaluations, counters_.notifications_sent, counters_.notifications_failed,
      counters_.notifications_dropped);
  // Firing first, then pending, then resolved; each by start time.
  bool first = true;
  for (auto state : {AlertRecord::State::firing, AlertRecord::State::pending, AlertRecord::State::resolved}) {
    std::vector<const AlertRecord*> of_state;
    for (const auto& [key, record] : records_) {
      if (record.state == state) of_state.push_back(&record);
    }
    std::sort(of_state.begin(), of_state.end(), [](const AlertRecord* a, const AlertRecord* b) {
      return std::tie(a->starts_at, a->server, a->rule) < std::tie(b->starts_at, b->server, b->rule);
    });
    for (const AlertRecord* r : of_state) {
      fmt::format_to(std::back_inserter(out),
                     "{}{{\"rule\":{},\"server\":{},\"severity\":{},\"state\":\"{}\",\"condition\":{},\"kind\":{},"
                     "\"starts_at\":{},\"ends_at\":{},\"last_end\":{},\"value\":{},\"summary\":{},\"changed_at\":{}}}",
                     first ? "" : ",", common::json_string(r->rule), common::json_string(r->server),
                     common::json_string(r->severity), describe(r->state), common::json_string(r->condition),
                     static_cast<int>(r->kind), r->starts_at,
                     r->state == AlertRecord::State::resolved ? std::to_string(r->ends_at) : "null", r->last_end,
                     fmt::format("{:.6g}", r->value), common::json_string(r->summary), r->changed_unix);
      first = false;
    }
  }
  out += "]}\n";
  return out;
}

bool AlertBook::save(const std::string& path, std::int64_t evaluated_at, std::size_t rule_count) const {
  const std::string body = to_json(evaluated_at, rule_count);
  const std::string temporary = path + ".tmp";
  std::FILE* file = std::fopen(temporary.c_str(), "w");
  if (!file) return false;
  const bool written = std::fwrite(body.data(), 1, body.size(), file) == body.size() && std::fflush(file) == 0 &&
                       fsync(fileno(file)) == 0;
  if (std::fclose(file) != 0 || !written) return false;
  return std::rename(temporary.c_str(), path.c_str()) == 0;
}

std::optional<std::string> AlertBook::load(const std::string& path) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (access(path.c_str(), F_OK) != 0) return std::nullopt;
  if (auto error = parser.load(path).get(root)) return fmt::format("{}: {}", path, simdjson::error_message(error));
  std::unordered_map<std::string, AlertRecord, KeyHash, std::equal_to<>> records;
  AlertCounters counters;
  // A missing or mistyped field reads as 0 or "" (then judged below).
  auto number = [](simdjson::simdjson_result<simdjson::dom::element> e) -> std::int64_t {
    std::int64_t v = 0;
    return e.get_int64().get(v) ? 0 : v;
  };
  auto text = [](simdjson::simdjson_result<simdjson::dom::element> e) -> std::string {
    std::string_view v;
    return e.get_string().get(v) ? std::string() : std::string(v);
  };
  counters.evaluations = static_cast<std::uint64_t>(number(root["evaluations"]));
  counters.notifications_sent = static_cast<std::uint64_t>(number(root["notifications_sent"]));
  counters.notifications_failed = static_cast<std::uint64_t>(number(root["notifications_failed"]));
  counters.notifications_dropped = static_cast<std::uint64_t>(number(root["notifications_dropped"]));
  simdjson::dom::array alerts;
  if (root["alerts"].get_array().get(alerts)) return fmt::format("{}: no \"alerts\" array", path);
  for (simdjson::dom::element a : alerts) {
    AlertRecord r;
    r.rule = text(a["rule"]);
    r.server = text(a["server"]);
    r.severity = text(a["severity"]);
    r.condition = text(a["condition"]);
    const std::int64_t kind = number(a["kind"]);
    if (kind < 0 || kind > static_cast<int>(Kind::silent)) return fmt::format("{}: an alert of unknown kind", path);
    r.kind = static_cast<Kind>(kind);
    const std::string state = text(a["state"]);
    if (state == "firing") r.state = AlertRecord::State::firing;
    else if (state == "pending") r.state = AlertRecord::State::pending;
    else if (state == "resolved") r.state = AlertRecord::State::resolved;
    else return fmt::format("{}: an alert in state '{}'", path, state);
    r.starts_at = number(a["starts_at"]);
    r.ends_at = number(a["ends_at"]);
    r.last_end = number(a["last_end"]);
    double value = 0;
    r.value = a["value"].get_double().get(value) ? 0 : value;
    r.summary = text(a["summary"]);
    r.changed_unix = number(a["changed_at"]);
    if (r.rule.empty() || r.server.empty()) return fmt::format("{}: an alert without rule or server", path);
    records[key_of(r.rule, r.server)] = std::move(r);
  }
  records_ = std::move(records);
  counters_ = counters;
  for (auto& [key, record] : records_) record.seen_round = round_;
  return std::nullopt;
}

}  // namespace servertrack::alert
