// One sample into the segment, as POST /server/<name> and each entry of
// POST /servers record it: the name is checked, then the parsed sample, then
// record() is called; the outcome is counted in the worker's metrics.
//
// Called on connection threads; no allocation when the sample is recorded.
// The outcome is counted in the ingest worker's IngestCounters.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ingest/ingest_counters.h"
#include "ingest/sample_parser.h"
#include "shm/segment.h"

namespace servertrack::ingest {

struct Refusal {
  int http_status;         // what a single POST answers: 400, 503 or 507
  Rejection reason;         // the metrics label and the batch's "reason"
  std::string message;     // one sentence a person can act on
};

// Counts and returns a refusal that happened before any entry was looked at
// (a body that is unreadable or not JSON).
Refusal refuse_body(IngestCounters& counters, int http_status, Rejection reason,
                    std::string message);

// nullopt when the sample is in the segment.
std::optional<Refusal> record_sample(shm::Segment& segment, IngestCounters& counters,
                                     std::string_view name,
                                     const ParsedSample& parsed, std::int64_t now);

}  // namespace servertrack::ingest
