// The query worker's routes (docs/design.md, "The HTTP contract"; README):
//   GET /                 the dashboard page (query/dashboard/), {{ingest_origin}} filled in
//   GET /server/<name>    the snapshot as JSON; ?counts=1 adds samples per bucket
//                         and metric, ?peaks=1 each bucket's largest sample
//   GET /servers          the known servers, sorted and paged (query/server_list.h)
//   GET /fleet            every server's latest load and last hour, hottest first (query/fleet.h)
//   GET /metrics          this worker's metrics (http/metrics.h)
//   GET /export/prometheus  every server's last complete minute, for a Prometheus
//                         scrape (query/prometheus_export.h)
//   /api/v1/...           the Prometheus HTTP API subset Grafana uses
//                         (query/prometheus_api.h)
// Given peers (--peers, query/peers.h), /servers and /fleet answer for every
// node of the fleet (query/merged_server_list.h, query/merged_fleet.h) unless
// the request carries the node-scope header.
//
// The worker's access policy (http/access_policy.h) has checked every
// request's token; /servers and /fleet list only the names the token's prefix
// allows (narrowed_prefix()).
//
// Added once by main() through run_worker(); handlers run on connection
// threads, each rendering into its own reused buffer.
#pragma once

#include <httplib.h>

#include <functional>
#include <string>

#include "http/access_policy.h"
#include "http/fast_path.h"
#include "http/metrics.h"
#include "query/peers.h"
#include "shm/segment.h"

namespace servertrack::query {

// The query worker's own routes as /metrics labels them.
inline constexpr http::RouteLabel kQueryRouteLabels[] = {
    {"/", "/", false},
    {"/server/<name>", "/server/", true},
    {"/servers", "/servers", false},
    {"/fleet", "/fleet", false},
    {"/alerts", "/alerts", false},
    {"/export/prometheus", "/export/prometheus", false},
    {"/api/v1/", "/api/v1/", true},
};

// The ingest worker's URL (e.g. "http://host:8889") as a client of `request`
// reaches it; the dashboard's examples show it.
using IngestOrigin = std::function<std::string(const httplib::Request& request)>;

// GET /server/<name> is also served on the fast path (`fast`).
void add_query_routes(httplib::Server& server, http::FastRoutes& fast, shm::Segment& segment,
                      const http::AccessPolicy& access, IngestOrigin ingest_origin,
                      std::vector<Peer> peers, std::string alerts_file);

// A prefix no name starts with (shm/name.h): the listing is empty, no peer is asked.
inline constexpr std::string_view kNoNamePrefix = "-";

// The prefix a listing uses when `asked` for and the token allows only names
// starting with `allowed`: the longer of the two when one starts with the
// other, else kNoNamePrefix.
std::string narrowed_prefix(std::string_view asked, std::string_view allowed);

}  // namespace servertrack::query
