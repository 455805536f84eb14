// What every route of the ingest worker shares: the segment, the access
// policy and the sample counters. One per process, made by add_ingest_routes()
// and kept alive by the handlers that capture it.
#pragma once

#include "http/access_policy.h"
#include "ingest/ingest_counters.h"
#include "shm/segment.h"

namespace servertrack::ingest {

struct Ingest {
  Ingest(shm::Segment& segment, const http::AccessPolicy& access) : segment(segment), access(access) {}
  shm::Segment& segment;
  const http::AccessPolicy& access;
  IngestCounters counters;
};

}  // namespace servertrack::ingest
