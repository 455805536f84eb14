// The ingest worker's routes (docs/design.md, "The HTTP contract"; README):
//   POST /server/<name>  one JSON sample -> 204 once it is in the segment
//   POST /servers        {"<name>": {"cpu": .., "ram": ..}, ...} -> 200 with
//                        {"recorded": N, "rejected": [{"name", "reason", "error"}]}
//   GET /metrics         this worker's metrics (http/metrics.h)
// With a non-empty `ingest_token`, both POSTs first need the bearer token.
//
// Added once by main() through run_worker(); handlers run on connection
// threads, each with its own reused body buffer, JSON parser and answer buffer.
#pragma once

#include <httplib.h>

#include <string>

#include "shm/segment.h"

namespace servertrack::ingest {

void add_ingest_routes(httplib::Server& server, shm::Segment& segment, std::string ingest_token);

}  // namespace servertrack::ingest
