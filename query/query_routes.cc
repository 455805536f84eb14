#include "query/query_routes.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/clock.h"
#include "common/snapshot_json.h"
#include "http/answer.h"
#include "http/server_path.h"
#include "http/status_answers.h"
#include "query/dashboard/dashboard_html.h"
#include "query/alerts_route.h"
#include "query/fleet.h"
#include "query/prometheus_api.h"
#include "query/prometheus_export.h"
#include "query/merged_fleet.h"
#include "query/merged_server_list.h"
#include "query/server_list.h"
#include "shm/name.h"

namespace servertrack::query {
namespace {

// GET /server/<name> for a valid name, on either path.
http::Answer snapshot_answer(shm::Segment& segment, std::string_view name, common::Details details) {
  shm::Snapshot snapshot;
  const shm::Status status = segment.snapshot(name, common::wall_clock_unix_seconds(), snapshot);
  switch (status) {
    case shm::Status::ok: {
      thread_local fmt::memory_buffer json;
      json.clear();
      common::append_snapshot_json(snapshot, json, details);
      http::Answer answer;
      answer.body = {json.data(), json.size()};
      answer.content_type = "application/json";
      return answer;
    }
    case shm::Status::not_found:
    case shm::Status::busy:
      return http::status_answer(status, {.name = name, .days = segment.days()});
    default:
      return http::json_error(500, http::kInternalErrorMessage);
  }
}

// A parameter of GET /server/<name> that is 0 or 1, and the 400 sentence otherwise.
struct Switch {
  const char* key;
  const char* sentence;
  bool* value;
};

void answer_snapshot(shm::Segment& segment, const httplib::Request& req, httplib::Response& res) {
  const std::string_view name = http::server_name(req);
  const std::string_view without_slash = name.substr(0, name.size() - (name.ends_with('/') ? 1 : 0));
  if (without_slash != name && shm::is_valid_name(without_slash)) {
    // /server/web_1/ means /server/web_1: send the client there, query kept.
    const std::string_view target = req.target;
    const auto query = std::min(target.find('?'), target.size());
    res.set_redirect("/server/" + std::string(without_slash) + std::string(target.substr(query)), 301);
    return;
  }
  if (!shm::is_valid_name(name)) {
    http::set_json_error(res, 400, http::kInvalidNameMessage);
    return;
  }
  common::Details details;
  for (const auto& [key, sentence, value] :
       {Switch{"counts", "counts must be 1 (add samples per bucket and metric) or 0", &details.counts},
        Switch{"peaks", "peaks must be 1 (add each bucket's largest sample per metric) or 0", &details.peaks}}) {
    if (!req.has_param(key)) continue;
    const std::string text = req.get_param_value(key);
    if (req.get_param_value_count(key) != 1 || (text != "0" && text != "1")) {
      http::set_json_error(res, 400, sentence);
      return;
    }
    *value = text == "1";
  }
  http::set_answer(res, snapshot_answer(segment, name, details));
}

// The peers are asked with the client's own token (every node of a fleet
// holds the same tokens file), so each lists only what the token may see.
FetchPeers fetch_with_token(const httplib::Request& req) {
  return [authorization = req.get_header_value("Authorization")](const std::vector<Peer>& peers,
                                                                 const std::vector<std::string>& targets) {
    return fetch_from_peers(peers, targets, authorization);
  };
}

void answer_server_list(const shm::Segment& segment, const http::AccessPolicy& access,
                        const std::vector<Peer>& peers, const httplib::Request& req,
                        httplib::Response& res) {
  auto query = parse_server_list_query(req);
  if (const std::string* error = std::get_if<std::string>(&query)) {
    http::set_json_error(res, 400, *error);
    return;
  }
  ServerListQuery& list = std::get<ServerListQuery>(query);
  list.prefix = narrowed_prefix(list.prefix, access.decide(req).prefix);
  thread_local fmt::memory_buffer json;
  json.clear();
  if (peers.empty() || asks_for_own_node(req) || list.prefix == kNoNamePrefix) {
    append_server_list_json(segment, list, json);
  } else {
    append_merged_server_list_json(peers, list, fetch_with_token(req), json);
  }
  res.set_content(json.data(), json.size(), "application/json");
}

void answer_fleet(shm::Segment& segment, const http::AccessPolicy& access, const std::vector<Peer>& peers,
                  const httplib::Request& req, httplib::Response& res) {
  auto query = parse_fleet_query(req);
  if (const std::string* error = std::get_if<std::string>(&query)) {
    http::set_json_error(res, 400, *error);
    return;
  }
  FleetQuery& fleet = std::get<FleetQuery>(query);
  fleet.prefix = narrowed_prefix(fleet.prefix, access.decide(req).prefix);
  thread_local fmt::memory_buffer json;
  json.clear();
  const std::int64_t now = common::wall_clock_unix_seconds();
  const auto error = peers.empty() || asks_for_own_node(req) || fleet.prefix == kNoNamePrefix
                         ? append_fleet_json(segment, fleet, now, json)
                         : append_merged_fleet_json(peers, fleet, fetch_with_token(req), now, json);
  if (error) {
    http::set_json_error(res, 400, *error);
    return;
  }
  res.set_content(json.data(), json.size(), "application/json");
}

// The page with every {{ingest_origin}} replaced; a cold path (one copy).
std::string dashboard_page(std::string_view ingest_origin) {
  constexpr std::string_view kMarker = "{{ingest_origin}}";
  const std::string_view page = dashboard_html();
  std::string out;
  out.reserve(page.size() + 256);
  std::size_t from = 0;
  for (auto at = page.find(kMarker); at != std::string_view::npos; at = page.find(kMarker, from)) {
    out.append(page.substr(from, at - from)).append(ingest_origin);
    from = at + kMarker.size();
  }
  return out.append(page.substr(from));
}

}  // namespace

std::string narrowed_prefix(std::string_view asked, std::string_view allowed) {
  if (asked.starts_with(allowed)) return std::string(asked);
  if (allowed.starts_with(asked)) return std::string(allowed);
  return std::string(kNoNamePrefix);
}

void add_query_routes(httplib::Server& server, http::FastRoutes& fast, shm::Segment& segment,
                      const http::AccessPolicy& access, IngestOrigin ingest_origin,
                      std::vector<Peer> peers, std::string alerts_file) {
  fast.get_server = [&segment](const http::FastRequest& request) -> std::optional<http::Answer> {
    return snapshot_answer(segment, request.name, common::Details{});
  };
  server.Get("/", [ingest_origin = std::move(ingest_origin)](const httplib::Request& req,
                                                             httplib::Response& res) {
    res.set_content(dashboard_page(ingest_origin(req)), "text/html; charset=utf-8");
  });
  server.Get("/servers", [&segment, &access, peers](const httplib::Request& req, httplib::Response& res) {
    answer_server_list(segment, access, peers, req, res);
  });
  server.Get("/fleet", [&segment, &access, peers](const httplib::Request& req, httplib::Response& res) {
    answer_fleet(segment, access, peers, req, res);
  });
  server.Get("/alerts", [&access, alerts_file = std::move(alerts_file)](const httplib::Request& req,
                                                                       httplib::Response& res) {
    answer_alerts(alerts_file, access.decide(req).prefix, res);
  });
  server.Get(kExportPath, [&segment, &access](const httplib::Request& req, httplib::Response& res) {
    answer_prometheus_export(segment, access.decide(req).prefix, req, res);
  });
  add_prometheus_api(server, segment, access);
  server.Get(http::kServerRoute, [&segment](const httplib::Request& req, httplib::Response& res) {
    answer_snapshot(segment, req, res);
  });
}

}  // namespace servertrack::query
