#include "ingest/sample_recorder.h"

#include "http/server_path.h"
#include "shm/name.h"

namespace servertrack::ingest {
namespace {

std::optional<Refusal> refuse(IngestCounters& counters, int http_status, Rejection reason,
                              std::string message) {
  counters.count_rejected(reason);
  return Refusal{http_status, reason, std::move(message)};
}

}  // namespace

Refusal refuse_body(IngestCounters& counters, int http_status, Rejection reason,
                    std::string message) {
  return *refuse(counters, http_status, reason, std::move(message));
}

std::optional<Refusal> record_sample(shm::Segment& segment, IngestCounters& counters,
                                     std::string_view name,
                                     const ParsedSample& parsed, std::int64_t now) {
  if (!shm::is_valid_name(name)) {
    return refuse(counters, 400, Rejection::invalid_name, http::kInvalidNameMessage);
  }
  if (!parsed.ok) {
    return refuse(counters, 400,
                  parsed.problem == SampleProblem::invalid_json ? Rejection::invalid_json
                                                                : Rejection::invalid_value,
                  parsed.error);
  }
  const shm::Status status = segment.record(name, parsed.sample.cpu, parsed.sample.ram, now);
  switch (status) {
    case shm::Status::ok:
      counters.count_recorded(1);
      return std::nullopt;
    case shm::Status::table_full:
      return refuse(counters, 507, Rejection::table_full,
                    "no room for a new server: the segment's table is full; existing servers "
                    "keep working (recreate the segment with a larger capacity)");
    case shm::Status::busy:
      return refuse(counters, 503, Rejection::slot_busy, shm::describe(status));
    default:
      return refuse(counters, 400, Rejection::invalid_value, shm::describe(status));
  }
}

}  // namespace servertrack::ingest
