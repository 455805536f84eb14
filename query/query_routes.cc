#include "query/query_routes.h"

#include <fmt/format.h>

#include "common/clock.h"
#include "common/snapshot_json.h"
#include "http/json_error.h"
#include "http/server_path.h"
#include "query/dashboard/dashboard_html.h"
#include "query/server_list.h"
#include "shm/name.h"

namespace servertrack::query {
namespace {

void answer_snapshot(shm::Segment& segment, const httplib::Request& req, httplib::Response& res) {
  const std::string_view name = http::server_name(req);
  if (!shm::is_valid_name(name)) {
    http::set_json_error(res, 400, http::kInvalidNameMessage);
    return;
  }
  common::Counts counts = common::Counts::omit;
  if (req.has_param("counts")) {
    const std::string value = req.get_param_value("counts");
    if (req.get_param_value_count("counts") != 1 || (value != "0" && value != "1")) {
      http::set_json_error(res, 400, "counts must be 1 (add samples per bucket) or 0");
      return;
    }
    counts = value == "1" ? common::Counts::include : common::Counts::omit;
  }
  shm::Snapshot snapshot;
  switch (segment.snapshot(name, common::wall_clock_unix_seconds(), snapshot)) {
    case shm::Status::ok: {
      thread_local fmt::memory_buffer json;
      json.clear();
      common::append_snapshot_json(snapshot, json, counts);
      res.set_content(json.data(), json.size(), "application/json");
      return;
    }
    case shm::Status::not_found:
      http::set_json_error(res, 404, "no sample has been recorded for server " + std::string(name));
      return;
    case shm::Status::busy:
      res.set_header("Retry-After", "1");
      http::set_json_error(res, 503, shm::describe(shm::Status::busy));
      return;
    default:
      http::set_json_error(res, 500, "internal error; see the worker's log");
      return;
  }
}

void answer_server_list(const shm::Segment& segment, const httplib::Request& req,
                        httplib::Response& res) {
  const auto query = parse_server_list_query(req);
  if (const std::string* error = std::get_if<std::string>(&query)) {
    http::set_json_error(res, 400, *error);
    return;
  }
  thread_local fmt::memory_buffer json;
  json.clear();
  append_server_list_json(segment, std::get<ServerListQuery>(query), json);
  res.set_content(json.data(), json.size(), "application/json");
}

}  // namespace

void add_query_routes(httplib::Server& server, shm::Segment& segment) {
  server.Get("/", [](const httplib::Request&, httplib::Response& res) {
    const std::string_view page = dashboard_html();
    res.set_content(page.data(), page.size(), "text/html; charset=utf-8");
  });
  server.Get("/servers", [&segment](const httplib::Request& req, httplib::Response& res) {
    answer_server_list(segment, req, res);
  });
  server.Get(http::kServerRoute, [&segment](const httplib::Request& req, httplib::Response& res) {
    answer_snapshot(segment, req, res);
  });
}

}  // namespace servertrack::query
