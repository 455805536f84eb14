// Every rule over every server it watches: see alert/fleet_evaluation.h.
#include "alert/fleet_evaluation.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>

#include "alert/evaluate.h"

namespace servertrack::alert {

FleetEvaluation::FleetEvaluation(shm::Segment& segment, const std::vector<Rule>& rules)
    : segment_(segment),
      rules_(rules),
      windows_(std::make_unique<shm::Snapshot>()),
      newest_(segment.capacity(), 0),
      maybe_recorded_(segment.capacity(), 1),
      findings_(rules.size()) {}

void FleetEvaluation::evaluate_server(const shm::ServerEntry& entry, std::int64_t now) {
  bool watched = false;
  for (const Rule& rule : rules_) watched = watched || entry.name.starts_with(rule.prefix);
  if (!watched) return;
  const shm::Status read = segment_.snapshot(entry.name, now, *windows_);
  if (read == shm::Status::not_found) return;  // deleted since the walk read it: its alerts end
  if (read != shm::Status::ok) {  // a write in the way: judged next time
    for (const Rule& rule : rules_) {
      if (entry.name.starts_with(rule.prefix)) book_.keep(rule.name, entry.name);
    }
    return;
  }
  const shm::Snapshot& windows = *windows_;
  bool found = false;
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    findings_[i] = entry.name.starts_with(rules_[i].prefix) ? evaluate(rules_[i], windows, now) : Finding{};
    found = found || findings_[i].state != Finding::State::none;
  }
  if (!found && !maybe_recorded_[entry.slot_index]) return;
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    if (entry.name.starts_with(rules_[i].prefix)) book_.apply(rules_[i], entry.name, findings_[i], windows, now);
  }
  maybe_recorded_[entry.slot_index] = found;
}

void FleetEvaluation::evaluate_all(std::int64_t now) {
  const auto started = std::chrono::steady_clock::now();
  book_.begin_round();
  segment_.for_each_server(
      [&](const shm::ServerEntry& entry) {
        newest_[entry.slot_index] = entry.last_sample_unix;
        evaluate_server(entry, now);
      },
      now);
  book_.end_round(now);
  book_.counters().evaluations += 1;
  last_duration_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

void FleetEvaluation::evaluate_caught_up(std::int64_t now) {
  const std::int64_t newest_complete_minute = (now / 60 - 1) * 60;
  segment_.for_each_server(
      [&](const shm::ServerEntry& entry) {
        std::int64_t& newest = newest_[entry.slot_index];
        if (newest == entry.last_sample_unix) return;
        const bool was_behind = newest != 0 && newest < newest_complete_minute;
        newest = entry.last_sample_unix;
        if (was_behind) evaluate_server(entry, now);
      },
      now);
}

bool FleetEvaluation::save_metrics(const std::string& path) const {
  std::size_t firing = 0, pending = 0;
  for (const auto& [key, record] : book_.records()) {
    firing += record.state == AlertRecord::State::firing;
    pending += record.state == AlertRecord::State::pending;
  }
  const AlertCounters& c = book_.counters();
  const std::string text = fmt::format(
      "# HELP servertrack_alert_evaluations_total Full evaluations of every alert rule over the fleet.\n"
      "# TYPE servertrack_alert_evaluations_total counter\n"
      "servertrack_alert_evaluations_total {}\n"
      "# HELP servertrack_alert_evaluation_seconds How long the last full evaluation took.\n"
      "# TYPE servertrack_alert_evaluation_seconds gauge\n"
      "servertrack_alert_evaluation_seconds {:.6f}\n"
      "# HELP servertrack_alert_notifications_total Notifications to Alertmanager and the webhook, by result.\n"
      "# TYPE servertrack_alert_notifications_total counter\n"
      "servertrack_alert_notifications_total{{result=\"sent\"}} {}\n"
      "servertrack_alert_notifications_total{{result=\"failed\"}} {}\n"
      "servertrack_alert_notifications_total{{result=\"dropped\"}} {}\n"
      "# HELP servertrack_alerts Alerts by state.\n"
      "# TYPE servertrack_alerts gauge\n"
      "servertrack_alerts{{state=\"firing\"}} {}\n"
      "servertrack_alerts{{state=\"pending\"}} {}\n",
      c.evaluations, last_duration_, c.notifications_sent, c.notifications_failed, c.notifications_dropped, firing,
      pending);
  const std::string temporary = path + ".tmp";
  std::FILE* file = std::fopen(temporary.c_str(), "w");
  if (!file) return false;
  const bool written = std::fwrite(text.data(), 1, text.size(), file) == text.size();
  if (std::fclose(file) != 0 || !written) return false;
  return std::rename(temporary.c_str(), path.c_str()) == 0;
}

}  // namespace servertrack::alert
