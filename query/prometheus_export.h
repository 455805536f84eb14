// GET /export/prometheus: the scrape endpoint (README, "Grafana and
// Prometheus"). Every server's last complete minute, in the Prometheus text
// format 0.0.4, one family after the other (query/prometheus_values.h names them):
//   servertrack_cpu_percent{server="web-01"} 12.5 1700000040000
// The timestamp is the minute's start (ms), as the JSON API's buckets give it,
// so a re-scrape within the minute repeats the same point and never invents
// one; a server with no sample in that minute is left out.
//   ?prefix=web        only names starting with it
//   ?shards=4&shard=0  only names whose hash (shm::hash_name) mod shards is shard:
//                      several scrape jobs split a large fleet, each name in one
// gzip (or brotli) when the scraper's Accept-Encoding asks (cpp-httplib). Only
// names starting with `allowed_prefix` (the scraper's token's; "" for all) are written.
//
// Called by the query worker's handler on a connection thread. Cost: one walk
// of the slot table and one slot copy per server shown; the body is built in a
// reused per-thread buffer, about 150 bytes per server.
#pragma once

#include <httplib.h>

#include <string_view>

#include "shm/segment.h"

namespace servertrack::query {

inline constexpr const char* kExportPath = "/export/prometheus";
inline constexpr int kMaxExportShards = 4096;

void answer_prometheus_export(shm::Segment& segment, std::string_view allowed_prefix, const httplib::Request& req,
                              httplib::Response& res);

}  // namespace servertrack::query
