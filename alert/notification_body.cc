// The JSON bodies the alerts are sent in: see alert/notification_body.h.
#include "alert/notification_body.h"

#include <fmt/format.h>

#include "common/json_string.h"

namespace servertrack::alert {
namespace {

std::string percent_encoded(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out.push_back(static_cast<char>(c));
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

std::string labels(const AlertRecord& alert, const AlertSource& source) {
  return fmt::format("{{\"alertname\":{},\"appliance\":{},\"server\":{},\"severity\":{}}}",
                     common::json_string(alert.rule), common::json_string(source.appliance),
                     common::json_string(alert.server), common::json_string(alert.severity));
}

std::string generator_url(const AlertRecord& alert, const AlertSource& source) {
  return source.dashboard_url.empty() ? "" : source.dashboard_url + "/#server=" + percent_encoded(alert.server);
}

}  // namespace

std::string alertmanager_body(const std::vector<const AlertRecord*>& alerts, const AlertSource& source) {
  std::string out = "[";
  for (const AlertRecord* alert : alerts) {
    if (out.size() > 1) out.push_back(',');
    fmt::format_to(std::back_inserter(out), "{{\"labels\":{},\"annotations\":{{\"summary\":{}}},\"startsAt\":\"{}\"",
                   labels(*alert, source), common::json_string(alert->summary), rfc3339(alert->starts_at));
    if (alert->state == AlertRecord::State::resolved) {
      fmt::format_to(std::back_inserter(out), ",\"endsAt\":\"{}\"", rfc3339(alert->ends_at));
    }
    const std::string url = generator_url(*alert, source);
    if (!url.empty()) fmt::format_to(std::back_inserter(out), ",\"generatorURL\":{}", common::json_string(url));
    out.push_back('}');
  }
  out.push_back(']');
  return out;
}

std::string webhook_body(const AlertRecord& change, const AlertSource& source) {
  const bool resolved = change.state == AlertRecord::State::resolved;
  const std::string status = resolved ? "resolved" : "firing";
  const std::string label_set = labels(change, source);
  const std::string annotations = fmt::format("{{\"summary\":{}}}", common::json_string(change.summary));
  return fmt::format(
      "{{\"version\":\"4\",\"groupKey\":{},\"truncatedAlerts\":0,\"status\":\"{}\",\"receiver\":\"servertrack\","
      "\"groupLabels\":{{\"alertname\":{}}},\"commonLabels\":{},\"commonAnnotations\":{},\"externalURL\":{},"
      "\"alerts\":[{{\"status\":\"{}\",\"labels\":{},\"annotations\":{},\"startsAt\":\"{}\",\"endsAt\":\"{}\","
      "\"generatorURL\":{},\"fingerprint\":\"{:016x}\"}}]}}\n",
      common::json_string(fmt::format("{{}}:{{alertname={},server={}}}", change.rule, change.server)), status,
      common::json_string(change.rule), label_set, annotations, common::json_string(source.dashboard_url), status,
      label_set, annotations, rfc3339(change.starts_at),
      resolved ? rfc3339(change.ends_at) : "0001-01-01T00:00:00Z", common::json_string(generator_url(change, source)),
      std::hash<std::string>{}(change.rule + '\0' + change.server));
}

}  // namespace servertrack::alert
