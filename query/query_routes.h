// The query worker's routes (docs/design.md, "The HTTP contract"; README):
//   GET /                 the dashboard page (query/dashboard/)
//   GET /server/<name>    the snapshot as JSON; ?counts=1 adds samples per bucket
//   GET /servers          the known servers, sorted and paged (query/server_list.h)
//   GET /metrics          this worker's metrics (http/metrics.h)
//
// Added once by main() through run_worker(); handlers run on connection
// threads, each rendering into its own reused buffer.
#pragma once

#include <httplib.h>

#include "shm/segment.h"

namespace servertrack::query {

void add_query_routes(httplib::Server& server, shm::Segment& segment);

}  // namespace servertrack::query
