#include "ingest/sample_recorder.h"

#include "http/server_path.h"
#include "shm/name.h"

namespace servertrack::ingest {
namespace {

std::optional<Refusal> refuse(int http_status, http::Rejection reason, std::string message) {
  http::worker_metrics().count_rejected(reason);
  return Refusal{http_status, reason, std::move(message)};
}

}  // namespace

Refusal refuse_body(int http_status, http::Rejection reason, std::string message) {
  return *refuse(http_status, reason, std::move(message));
}

std::optional<Refusal> record_sample(shm::Segment& segment, std::string_view name,
                                     const ParsedSample& parsed, std::int64_t now) {
  if (!shm::is_valid_name(name)) {
    return refuse(400, http::Rejection::invalid_name, http::kInvalidNameMessage);
  }
  if (!parsed.ok) {
    return refuse(400,
                  parsed.problem == SampleProblem::invalid_json ? http::Rejection::invalid_json
                                                                : http::Rejection::invalid_value,
                  parsed.error);
  }
  const shm::Status status = segment.record(name, parsed.sample.cpu, parsed.sample.ram, now);
  switch (status) {
    case shm::Status::ok:
      http::worker_metrics().count_recorded(1);
      return std::nullopt;
    case shm::Status::table_full:
      return refuse(507, http::Rejection::table_full,
                    "no room for a new server: the segment's table is full; existing servers "
                    "keep working (recreate the segment with a larger capacity)");
    case shm::Status::busy:
      return refuse(503, http::Rejection::slot_busy, shm::describe(status));
    default:
      return refuse(400, http::Rejection::invalid_value, shm::describe(status));
  }
}

}  // namespace servertrack::ingest
