// Which scope each route needs (README, "Exposing it safely"): one table, one
// line a route, looked up by method and path. A route that appears later
// (/alerts, the Prometheus API, the line protocol) is one more line here.
//
// Open: /healthz, and the dashboard's page (its data, /fleet and the rest,
// needs read; the page asks for the token: query/dashboard/index.html).
// A path that matches no line needs the scope of its method (GET and HEAD
// read, POST write, DELETE delete), so a route added without its line is
// guarded, not open; other methods are refused (405) before any route.
//
// Pure functions, any thread, no allocation; a lookup walks the few lines.
#pragma once

#include <optional>
#include <string_view>

#include "http/access_tokens.h"

namespace servertrack::http {

inline constexpr std::string_view kNamePlaceholder = "<name>";

struct RouteScope {
  std::string_view method;     // "GET" also covers HEAD
  std::string_view route;      // the exact path, or a path ending in "<name>": any server name
  std::optional<Scope> scope;  // nullopt: open to everyone (/healthz)
};

inline constexpr RouteScope kRouteScopes[] = {
    {"GET", "/healthz", std::nullopt},
    {"GET", "/metrics", Scope::metrics},
    {"GET", "/", std::nullopt},  // the dashboard's page: code, no data (a browser cannot send a token with it)
    {"GET", "/servers", Scope::read},
    {"GET", "/fleet", Scope::read},
    {"GET", "/alerts", Scope::read},
    {"GET", "/server/<name>", Scope::read},
    {"POST", "/server/<name>", Scope::write},
    {"POST", "/servers", Scope::write},
    {"DELETE", "/server/<name>", Scope::remove},
    // Other agents' protocols (ingest/line_protocol_routes.h, ingest/collectd_route.h):
    // writes, each line's or value list's host checked against the token's prefix.
    {"POST", "/write", Scope::write},
    {"POST", "/api/v2/write", Scope::write},
    {"POST", "/collectd", Scope::write},
    {"GET", "/ping", std::nullopt},  // InfluxDB's clients ask before they write; open as InfluxDB's
    {"GET", "/query", Scope::write},  // answers CREATE DATABASE only
    {"POST", "/query", Scope::write},
    // The Prometheus API's form POSTs read (query/prometheus_api.h).
    {"POST", "/api/v1/query", Scope::read},
    {"POST", "/api/v1/query_range", Scope::read},
    {"POST", "/api/v1/series", Scope::read},
    {"POST", "/api/v1/labels", Scope::read},
};

struct RouteAccess {
  std::optional<Scope> scope;  // nullopt: open
  std::string_view route;      // the table's route, or the path when no line matched
  bool named = false;
  std::string_view name;       // of a named route: the rest of the path
};

inline RouteAccess route_access(std::string_view method, std::string_view path) noexcept {
  if (method == "HEAD") method = "GET";
  for (const RouteScope& line : kRouteScopes) {
    if (line.method != method) continue;
    const bool named = line.route.ends_with(kNamePlaceholder);
    const std::string_view before_name = line.route.substr(0, line.route.size() - (named ? kNamePlaceholder.size() : 0));
    if (named ? path.starts_with(before_name) : path == line.route) {
      return RouteAccess{.scope = line.scope, .route = line.route, .named = named,
                         .name = named ? path.substr(before_name.size()) : std::string_view()};
    }
  }
  RouteAccess other{.scope = std::nullopt, .route = path, .named = false, .name = {}};
  if (method == "GET") other.scope = Scope::read;
  if (method == "POST") other.scope = Scope::write;
  if (method == "DELETE") other.scope = Scope::remove;
  return other;
}

}  // namespace servertrack::http
