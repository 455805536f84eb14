// GET /alerts: see query/alerts_route.h.
#include "query/alerts_route.h"

#include <simdjson.h>

#include <string>

#include "http/answer.h"

namespace servertrack::query {

void answer_alerts(const std::string& alerts_file, std::string_view prefix, httplib::Response& res) {
  if (alerts_file.empty()) {
    res.set_content("{\"evaluated_at\":null,\"rules\":0,\"alerts\":[]}\n", "application/json");
    return;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (const auto error = parser.load(alerts_file).get(root)) {
    if (error == simdjson::IO_ERROR) {
      res.set_content("{\"evaluated_at\":null,\"rules\":null,\"alerts\":[]}\n", "application/json");
    } else {
      http::set_json_error(res, 503, "the alert state file does not read: " + alerts_file);
    }
    return;
  }
  simdjson::dom::object object;
  if (root.get_object().get(object)) {
    http::set_json_error(res, 503, "the alert state file does not read: " + alerts_file);
    return;
  }
  std::string out = "{";
  for (const auto field : object) {
    if (out.size() > 1) out.push_back(',');
    out += "\"" + std::string(field.key) + "\":";
    simdjson::dom::array alerts;
    if (field.key != "alerts" || field.value.get_array().get(alerts)) {
      out += simdjson::minify(field.value);
      continue;
    }
    out.push_back('[');
    bool first = true;
    for (const simdjson::dom::element alert : alerts) {
      std::string_view server;
      if (alert["server"].get_string().get(server) || !server.starts_with(prefix)) continue;
      if (!first) out.push_back(',');
      out += simdjson::minify(alert);
      first = false;
    }
    out.push_back(']');
  }
  out += "}\n";
  res.set_content(out, "application/json");
}

}  // namespace servertrack::query
