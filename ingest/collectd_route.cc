#include "ingest/collectd_route.h"

#include <cmath>
#include <string>

#include "common/clock.h"
#include "http/answer.h"
#include "http/request_body.h"
#include "ingest/foreign_batch.h"
#include "ingest/sample_parser.h"
#include "ingest/sample_recorder.h"

namespace servertrack::ingest {
namespace {

constexpr const char* kExample =
    R"(; send collectd's write_http Format "JSON": [{"values":[97.5],"time":1767225600.5,"host":"web-01","plugin":"cpu","plugin_instance":"","type":"percent","type_instance":"idle"}, ...])";

std::string_view member_text(simdjson::dom::object list, const char* key) {
  std::string_view text;
  if (list[key].get(text) != simdjson::SUCCESS) return {};
  return text;
}

// One value list: recorded, ignored (true returned) or refused.
bool add_value_list(ForeignBatch& batch, std::size_t item, simdjson::dom::element element) {
  simdjson::dom::object list;
  if (element.get(list) != simdjson::SUCCESS) {
    batch.refuse(item, Rejection::invalid_json, "a value list is a JSON object");
    return false;
  }
  const std::string_view plugin = member_text(list, "plugin");
  const std::string_view type = member_text(list, "type");
  const std::string_view type_instance = member_text(list, "type_instance");
  const bool cpu = plugin == "cpu" && member_text(list, "plugin_instance").empty() && type == "percent" &&
                   (type_instance == "idle" || type_instance == "active");
  const bool ram = plugin == "memory" && type == "percent" && type_instance == "used";
  if (!cpu && !ram) return true;
  simdjson::dom::array values;
  if (list["values"].get(values) != simdjson::SUCCESS || values.size() != 1) {
    batch.refuse(item, Rejection::invalid_json, "\"values\" must be an array of one number");
    return false;
  }
  if (values.at(0).is_null()) return true;  // collectd's NaN: no reading this interval
  double value = 0;
  if (values.at(0).get(value) != simdjson::SUCCESS || !(value >= 0 && value <= 100)) {
    batch.refuse(item, Rejection::invalid_value, "a percent value must be a number from 0 to 100");
    return false;
  }
  double seconds = 0;
  if (list["time"].get(seconds) != simdjson::SUCCESS || !std::isfinite(seconds) || seconds < 0 || seconds > 1e12) {
    batch.refuse(item, Rejection::invalid_value, "\"time\" must be unix seconds");
    return false;
  }
  std::string_view host;
  if (list["host"].get(host) != simdjson::SUCCESS) {
    batch.refuse(item, Rejection::invalid_name, "\"host\" must be a string: the server's name");
    return false;
  }
  Sample sample;
  sample.has_time = true;
  sample.time_ms = std::llround(seconds * 1000);
  if (cpu) {
    sample.has_cpu = true;
    sample.cpu = type_instance == "idle" ? 100 - value : value;
  } else {
    sample.has_ram = true;
    sample.ram = value;
  }
  batch.record(item, host, sample);
  return false;
}

void record_collectd(Ingest& ingest, const httplib::Request& req, httplib::Response& res,
                     const httplib::ContentReader& reader) {
  thread_local http::RequestBody body(kParserPadding);
  thread_local SampleParser parser;
  if (!http::read_request_body(reader, res, body)) {
    ingest.counters.count_rejected(Rejection::unreadable_body);
    return;
  }
  simdjson::dom::element root;
  simdjson::dom::array lists;
  if (parser.parse_document(body.view(), root) != simdjson::SUCCESS || root.get(lists) != simdjson::SUCCESS) {
    const Refusal refusal = refuse_body(ingest.counters, 400, Rejection::invalid_json,
                                        std::string("the body is not a JSON array of collectd value lists") + kExample);
    http::set_json_error(res, refusal.http_status, refusal.message);
    return;
  }
  ForeignBatch batch(ingest, ingest.access.decide(req).prefix, common::wall_clock_unix_seconds(), "value list");
  std::uint64_t ignored = 0;
  std::size_t index = 0;
  for (const simdjson::dom::element list : lists) ignored += add_value_list(batch, index++, list) ? 1 : 0;
  ingest.counters.count_ignored_values(ignored);
  http::set_answer(res, batch.answer("error", ""));
}

}  // namespace

void add_collectd_route(httplib::Server& server, std::shared_ptr<Ingest> ingest) {
  server.Post("/collectd", [ingest](const httplib::Request& req, httplib::Response& res,
                                    const httplib::ContentReader& reader) {
    record_collectd(*ingest, req, res, reader);
  });
}

}  // namespace servertrack::ingest
