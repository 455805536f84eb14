#include "ingest/sample_recorder.h"

#include <fmt/format.h>

#include "common/segment_advice.h"
#include "http/server_path.h"
#include "shm/name.h"

namespace servertrack::ingest {
namespace {

std::optional<Refusal> refuse(IngestCounters& counters, int http_status, Rejection reason,
                              std::string message) {
  counters.count_rejected(reason);
  return Refusal{http_status, reason, std::move(message)};
}

// "1767225600" or "1767225600.5": milliseconds as the seconds a sender wrote.
std::string unix_seconds(std::int64_t unix_ms) {
  return unix_ms % 1000 == 0 ? fmt::format("{}", unix_ms / 1000) : fmt::format("{:.3f}", unix_ms / 1000.0);
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
  const Sample& sample = parsed.sample;
  shm::SampleValue value = sample.has_time ? shm::stated_sample(sample.cpu, sample.ram, sample.time_ms)
                                           : shm::SampleValue{.cpu = sample.cpu, .ram = sample.ram, .time = now};
  value.has_cpu = sample.has_cpu;
  value.has_ram = sample.has_ram;
  const shm::Status status = segment.record(name, value, now);
  switch (status) {
    case shm::Status::ok:
      counters.count_recorded(1);
      return std::nullopt;
    case shm::Status::repeat:  // the retry rule: acknowledged, counted once before
      return std::nullopt;
    case shm::Status::time_in_future:
      return refuse(counters, 400, Rejection::invalid_time,
                    fmt::format("\"time\" {} is {} s after the appliance's clock ({}); a sample may be at "
                                "most {} s ahead",
                                unix_seconds(sample.time_ms), value.time - now, now, shm::kClockSlack));
    case shm::Status::time_too_old: {
      const std::int64_t oldest = shm::oldest_sample_time(now, segment.days());
      return refuse(counters, 400, Rejection::invalid_time,
                    fmt::format("\"time\" {} is older than the {}, which starts at {} (unix seconds); the "
                                "sample can no longer be counted",
                                unix_seconds(sample.time_ms),
                                oldest < shm::oldest_sample_time(now, 0) ? fmt::format("{}-day window", segment.days())
                                                                         : std::string("24-hour window"),
                                oldest));
    }
    case shm::Status::table_full:
      return refuse(counters, 507, Rejection::table_full,
                    "no room for a new server: the segment's table is full; existing servers "
                    "keep working (recreate the segment with a larger capacity)");
    case shm::Status::busy:
    case shm::Status::moved:  // a grow is switching segments: as transient as a busy slot
      return refuse(counters, 503, Rejection::slot_busy, common::with_remedy(status));
    default:
      return refuse(counters, 400, Rejection::invalid_value, shm::describe(status));
  }
}

}  // namespace servertrack::ingest
