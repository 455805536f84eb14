#include "ingest/sample_recorder.h"

#include <fmt/format.h>

#include "http/server_path.h"
#include "shm/name.h"

namespace servertrack::ingest {
namespace {

std::optional<Refusal> refuse(int http_status, http::Rejection reason, std::string message) {
  http::worker_metrics().count_rejected(reason);
  return Refusal{http_status, reason, std::move(message)};
}

// "1767225600" or "1767225600.5": milliseconds as the seconds a sender wrote.
std::string unix_seconds(std::int64_t unix_ms) {
  return unix_ms % 1000 == 0 ? fmt::format("{}", unix_ms / 1000) : fmt::format("{:.3f}", unix_ms / 1000.0);
}

// The first second the 24-hour window ending at `now` counts.
std::int64_t window_start(std::int64_t now) {
  return (now / 3600 - (shm::kHourBuckets - 1)) * 3600;
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
  const Sample& sample = parsed.sample;
  const shm::SampleTime at{sample.has_time ? sample.time_ms : now * 1000, sample.has_time};
  const shm::Status status = segment.record(name, sample.cpu, sample.ram, at, now);
  switch (status) {
    case shm::Status::ok:
      http::worker_metrics().count_recorded(1);
      return std::nullopt;
    case shm::Status::repeat:
      return std::nullopt;
    case shm::Status::time_in_future:
      return refuse(400, http::Rejection::invalid_time,
                    fmt::format("\"time\" {} is {} s after the appliance's clock ({}); a sample may be at "
                                "most {} s ahead",
                                unix_seconds(at.unix_ms), at.unix_ms / 1000 - now, now,
                                shm::kFutureSlackSeconds));
    case shm::Status::time_too_old:
      return refuse(400, http::Rejection::invalid_time,
                    fmt::format("\"time\" {} is older than the 24-hour window, which starts at {} "
                                "(unix seconds); the sample can no longer be counted",
                                unix_seconds(at.unix_ms), window_start(now)));
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
