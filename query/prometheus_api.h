// The subset of the Prometheus HTTP API that Grafana's built-in Prometheus data
// source and promtool use, on the query port (README, "Grafana and Prometheus"):
//   GET|POST /api/v1/query         query, time (default now); timeout ignored
//   GET|POST /api/v1/query_range   query, start, end, step (at most 11,000 steps)
//   GET|POST /api/v1/series        match[] (one or more), start, end
//   GET|POST /api/v1/labels        match[] optional, start, end
//   GET      /api/v1/label/<name>/values   match[] optional, start, end
//   GET      /api/v1/status/buildinfo      the Prometheus version whose API this follows
// POST takes the parameters form-encoded in the body as well as in the URL.
// Queries are the PromQL subset of query/promql_parser.h, evaluated by
// query/promql_eval.h; series, labels and label values list the servers whose
// newest sample is at or after `start` (all live ones without it). Errors are
// Prometheus's: {"status":"error","errorType":"bad_data","error":"..."} with 400
// (422 execution, 503 unavailable).
//
// A token limited to names starting with a prefix (http/access_policy.h) sees
// only those servers, in every answer.
//
// Added once by add_query_routes(), before the worker's fallbacks; handlers
// run on connection threads. Cost: query/promql_eval.h.
#pragma once

#include <httplib.h>

#include "http/access_policy.h"
#include "shm/segment.h"

namespace servertrack::query {

// The Prometheus version whose HTTP API and PromQL this subset follows (the one
// Debian 12 ships, which the tests run against).
inline constexpr const char* kPrometheusApiVersion = "2.42.0";

void add_prometheus_api(httplib::Server& server, shm::Segment& segment, const http::AccessPolicy& access);

}  // namespace servertrack::query
