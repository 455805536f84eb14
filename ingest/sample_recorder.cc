#include "ingest/sample_recorder.h"

#include <fmt/format.h>

#include "http/server_path.h"
#include "http/status_answers.h"
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
  const Sample& sample = parsed.sample;
  shm::SampleValue value = sample.has_time ? shm::stated_sample(sample.cpu, sample.ram, sample.time_ms)
                                           : shm::SampleValue{.cpu = sample.cpu, .ram = sample.ram, .time = now};
  value.has_cpu = sample.has_cpu;
  value.has_ram = sample.has_ram;
  const shm::Status status = segment.record(name, value, now);
  if (status == shm::Status::ok) counters.count_recorded(1);
  // repeat: the retry rule, acknowledged and counted once before.
  if (status == shm::Status::ok || status == shm::Status::repeat) return std::nullopt;
  // moved: a grow is switching segments, as transient as a busy slot.
  const Rejection reason = status == shm::Status::time_in_future || status == shm::Status::time_too_old
                               ? Rejection::invalid_time
                           : status == shm::Status::table_full                                  ? Rejection::table_full
                           : status == shm::Status::busy || status == shm::Status::moved        ? Rejection::slot_busy
                                                                                                : Rejection::invalid_value;
  return refuse(counters, http::http_status(status), reason,
                http::status_sentence(status, {.name = name, .days = segment.days(), .now = now,
                                               .sample_ms = sample.time_ms}));
}

}  // namespace servertrack::ingest
