// The ingest worker's routes (docs/design.md, "The HTTP contract"; README):
//   POST /server/<name>  one JSON sample -> 204 once it is in the segment (or
//                        is the repeat of one counted, shm/slot.h); an array
//                        of that server's samples -> 200 with the batch's
//                        answer (ingest/batch_answer.h)
//   POST /servers        {"<name>": SAMPLE or [SAMPLE, ...], ...} -> 200 with
//                        {"rejected": [{"name", "index"?, "reason", "error"}],
//                         "recorded": N}
//   DELETE /server/<name> -> 204, the server is gone; 404 when there is none
//   GET /metrics         also carries the sample counters (ingest/ingest_counters.h)
//   InfluxDB's write API and collectd's write_http: ingest/line_protocol_routes.h,
//                        ingest/collectd_route.h
// The worker's access policy (http/access_policy.h) has checked every request's
// token before these routes see it; a batch with a name outside the token's
// prefix is refused whole (403, nothing recorded), and every DELETE is logged
// with the token's label.
//
// Added once by main() through run_worker(); handlers run on connection
// threads, each with its own reused body buffer, JSON parser and answer buffer.
#pragma once

#include <httplib.h>

#include <string>

#include "http/access_policy.h"
#include "http/fast_path.h"
#include "http/metrics.h"
#include "shm/segment.h"

namespace servertrack::ingest {

// The ingest worker's own routes as /metrics labels them.
inline constexpr http::RouteLabel kIngestRouteLabels[] = {
    {"/server/<name>", "/server/", true},
    {"/servers", "/servers", false},
    {"/write", "/write", false},
    {"/api/v2/write", "/api/v2/write", false},
    {"/ping", "/ping", false},
    {"/query", "/query", false},
    {"/collectd", "/collectd", false},
};

// POST /server/<name> is also served on the fast path (`fast`).
void add_ingest_routes(httplib::Server& server, http::FastRoutes& fast, shm::Segment& segment,
                       http::WorkerMetrics& metrics, const http::AccessPolicy& access);

}  // namespace servertrack::ingest
