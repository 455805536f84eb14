#include "query/prometheus_api.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "http/request_body.h"
#include "query/prometheus_json.h"
#include "query/prometheus_params.h"
#include "query/promql_eval.h"
#include "query/promql_parser.h"

namespace servertrack::query {
namespace {

// Prometheus's cap on the steps of one range query.
constexpr std::int64_t kMaxSteps = 11'000;

using Answer = std::function<void(const httplib::Params&, const httplib::Request&, httplib::Response&)>;

const std::string* first_param(const httplib::Params& params, const std::string& key) {
  const auto found = params.find(key);
  return found == params.end() ? nullptr : &found->second;
}

void send_json(httplib::Response& res, int status, const fmt::memory_buffer& json) {
  res.status = status;
  res.set_content(json.data(), json.size(), "application/json");
}

void send_error(httplib::Response& res, const promql::QueryError& error) {
  fmt::memory_buffer json;
  append_error_json(error, json);
  send_json(res, error.status, json);
}

promql::QueryError bad_data(std::string message) { return {"bad_data", 400, std::move(message)}; }

// A time parameter; `fallback` when absent.
std::variant<std::int64_t, promql::QueryError> time_param(const httplib::Params& params, const std::string& key,
                                                          std::optional<std::int64_t> fallback) {
  const std::string* text = first_param(params, key);
  if (!text && fallback) return *fallback;
  const std::string given = text ? *text : "";
  if (const auto ms = parse_time_ms(given)) return *ms;
  return bad_data(fmt::format("invalid parameter \"{}\": cannot parse \"{}\" to a valid timestamp", key, given));
}

std::variant<promql::ExprPtr, promql::QueryError> query_param(const httplib::Params& params) {
  const std::string* text = first_param(params, "query");
  auto parsed = promql::parse(text ? *text : "");
  if (auto* message = std::get_if<std::string>(&parsed)) {
    return bad_data("invalid parameter \"query\": " + *message);
  }
  return std::move(std::get<promql::ExprPtr>(parsed));
}

std::int64_t now_ms() { return common::wall_clock_unix_seconds() * 1000; }

void answer_query(shm::Segment& segment, std::string_view names, const httplib::Params& params,
                  httplib::Response& res) {
  auto expr = query_param(params);
  if (auto* error = std::get_if<promql::QueryError>(&expr)) return send_error(res, *error);
  const auto time = time_param(params, "time", now_ms());
  if (auto* error = std::get_if<promql::QueryError>(&time)) return send_error(res, *error);
  const promql::Times times{std::get<std::int64_t>(time), 1, 1};
  const auto value = promql::evaluate(*std::get<promql::ExprPtr>(expr), segment, times,
                                      common::wall_clock_unix_seconds(), names);
  if (auto* error = std::get_if<promql::QueryError>(&value)) return send_error(res, *error);
  thread_local fmt::memory_buffer json;
  json.clear();
  append_instant_json(std::get<promql::Value>(value), times.start_ms, json);
  send_json(res, 200, json);
}

void answer_query_range(shm::Segment& segment, std::string_view names, const httplib::Params& params,
                        httplib::Response& res) {
  auto expr = query_param(params);
  if (auto* error = std::get_if<promql::QueryError>(&expr)) return send_error(res, *error);
  const auto start = time_param(params, "start", std::nullopt);
  if (auto* error = std::get_if<promql::QueryError>(&start)) return send_error(res, *error);
  const auto end = time_param(params, "end", std::nullopt);
  if (auto* error = std::get_if<promql::QueryError>(&end)) return send_error(res, *error);
  const std::int64_t start_ms = std::get<std::int64_t>(start), end_ms = std::get<std::int64_t>(end);
  if (end_ms < start_ms) return send_error(res, bad_data("end timestamp must not be before start time"));
  const std::string* step_text = first_param(params, "step");
  const auto step_ms = parse_duration_ms(step_text ? *step_text : "");
  if (!step_ms) {
    return send_error(res, bad_data(fmt::format("invalid parameter \"step\": cannot parse \"{}\" to a valid duration",
                                                step_text ? *step_text : "")));
  }
  if (*step_ms <= 0) {
    return send_error(res, bad_data("zero or negative query resolution step widths are not accepted. "
                                    "Try a positive integer"));
  }
  if ((end_ms - start_ms) / *step_ms >= kMaxSteps) {
    return send_error(res, bad_data("exceeded maximum resolution of 11,000 points per timeseries. "
                                    "Try decreasing the query resolution (?step=XX)"));
  }
  const promql::Times times{start_ms, *step_ms, static_cast<std::size_t>((end_ms - start_ms) / *step_ms + 1)};
  const auto value = promql::evaluate(*std::get<promql::ExprPtr>(expr), segment, times,
                                      common::wall_clock_unix_seconds(), names);
  if (auto* error = std::get_if<promql::QueryError>(&value)) return send_error(res, *error);
  thread_local fmt::memory_buffer json;
  json.clear();
  append_range_json(std::get<promql::Value>(value), times, json);
  send_json(res, 200, json);
}

// The series the match[] selectors select (every series without one) among
// the servers whose newest sample is at or after `start`; sorted, distinct.
std::variant<std::vector<promql::Labels>, promql::QueryError> matched_series(shm::Segment& segment,
                                                                            std::string_view names,
                                                                            const httplib::Params& params,
                                                                            bool match_required) {
  const auto start = time_param(params, "start", 0);
  if (auto* error = std::get_if<promql::QueryError>(&start)) return *error;
  const std::int64_t since = std::get<std::int64_t>(start) / 1000;
  std::vector<std::string> selectors;
  for (auto [it, last] = params.equal_range("match[]"); it != last; ++it) selectors.push_back(it->second);
  if (selectors.empty()) {
    if (match_required) return bad_data("no match[] parameter provided");
    selectors.emplace_back("{__name__=~\".+\"}");
  }
  std::set<promql::Labels> all;
  for (const std::string& selector_text : selectors) {
    auto parsed = promql::parse(selector_text);
    if (auto* message = std::get_if<std::string>(&parsed)) return bad_data("invalid parameter \"match[]\": " + *message);
    const auto* selector = std::get_if<promql::VectorSelector>(&std::get<promql::ExprPtr>(parsed)->node);
    if (!selector) {
      return bad_data("invalid parameter \"match[]\": \"" + selector_text + "\" is not a series selector");
    }
    auto series = promql::select_series(*selector, segment, common::wall_clock_unix_seconds(), since, names);
    if (auto* error = std::get_if<promql::QueryError>(&series)) return *error;
    for (auto& labels : std::get<std::vector<promql::Labels>>(series)) all.insert(std::move(labels));
  }
  return std::vector<promql::Labels>(all.begin(), all.end());
}

void answer_series(shm::Segment& segment, std::string_view names, const httplib::Params& params,
                   httplib::Response& res) {
  const auto series = matched_series(segment, names, params, true);
  if (auto* error = std::get_if<promql::QueryError>(&series)) return send_error(res, *error);
  thread_local fmt::memory_buffer json;
  json.clear();
  append_series_json(std::get<std::vector<promql::Labels>>(series), json);
  send_json(res, 200, json);
}

// /api/v1/labels when `label` is empty, else /api/v1/label/<label>/values.
void answer_label_strings(shm::Segment& segment, std::string_view names, const httplib::Params& params,
                          const std::string& label, httplib::Response& res) {
  const auto series = matched_series(segment, names, params, false);
  if (auto* error = std::get_if<promql::QueryError>(&series)) return send_error(res, *error);
  std::set<std::string> strings;
  for (const promql::Labels& labels : std::get<std::vector<promql::Labels>>(series)) {
    for (const auto& [name, value] : labels) {
      if (label.empty()) {
        strings.insert(name);
      } else if (name == label) {
        strings.insert(value);
      }
    }
  }
  thread_local fmt::memory_buffer json;
  json.clear();
  append_strings_json(std::vector<std::string>(strings.begin(), strings.end()), json);
  send_json(res, 200, json);
}

void answer_buildinfo(httplib::Response& res) {
  fmt::memory_buffer json;
  fmt::format_to(std::back_inserter(json),
                 "{{\"status\":\"success\",\"data\":{{\"version\":\"{}\",\"revision\":\"servertrack\","
                 "\"branch\":\"servertrack\",\"buildUser\":\"\",\"buildDate\":\"\",\"goVersion\":\"\"}}}}",
                 kPrometheusApiVersion);
  send_json(res, 200, json);
}

// GET, and POST with the form in the body (a POST without a body reaches the
// plain handler: cpp-httplib tries the content-reader handlers first, and the
// worker's fallback is one).
void add_route(httplib::Server& server, const std::string& pattern, bool post, const Answer& answer) {
  server.Get(pattern, [answer](const httplib::Request& req, httplib::Response& res) { answer(req.params, req, res); });
  if (!post) return;
  server.Post(pattern, [answer](const httplib::Request& req, httplib::Response& res) { answer(req.params, req, res); });
  server.Post(pattern, [answer](const httplib::Request& req, httplib::Response& res,
                                const httplib::ContentReader& reader) {
    thread_local http::RequestBody body(0);
    if (!http::read_request_body(reader, res, body)) return;
    httplib::Params params = req.params;
    if (req.get_header_value("Content-Type").starts_with("application/x-www-form-urlencoded")) {
      httplib::detail::parse_query_text(std::string(body.view()), params);
    }
    answer(params, req, res);
  });
}

}  // namespace

void add_prometheus_api(httplib::Server& server, shm::Segment& segment, const http::AccessPolicy& access) {
  // The names the request's token may see ("" for all).
  const auto names = [&access](const httplib::Request& req) { return std::string(access.decide(req).prefix); };
  add_route(server, "/api/v1/query", true,
            [&segment, names](const httplib::Params& params, const httplib::Request& req, httplib::Response& res) {
              answer_query(segment, names(req), params, res);
            });
  add_route(server, "/api/v1/query_range", true,
            [&segment, names](const httplib::Params& params, const httplib::Request& req, httplib::Response& res) {
              answer_query_range(segment, names(req), params, res);
            });
  add_route(server, "/api/v1/series", true,
            [&segment, names](const httplib::Params& params, const httplib::Request& req, httplib::Response& res) {
              answer_series(segment, names(req), params, res);
            });
  add_route(server, "/api/v1/labels", true,
            [&segment, names](const httplib::Params& params, const httplib::Request& req, httplib::Response& res) {
              answer_label_strings(segment, names(req), params, "", res);
            });
  add_route(server, R"(/api/v1/label/([a-zA-Z_][a-zA-Z0-9_]*)/values)", false,
            [&segment, names](const httplib::Params& params, const httplib::Request& req, httplib::Response& res) {
              answer_label_strings(segment, names(req), params, req.matches[1].str(), res);
            });
  add_route(server, "/api/v1/status/buildinfo", false,
            [](const httplib::Params&, const httplib::Request&, httplib::Response& res) { answer_buildinfo(res); });
}

}  // namespace servertrack::query
