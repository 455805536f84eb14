// The answer to a body of many samples, POST /servers and an array at POST
// /server/<name> (docs/design.md, "The HTTP contract"):
//   200 {"rejected":[{"name", "index"?, "reason", "error"}, ...],"recorded":N}
// written while each sample is recorded (ingest/sample_recorder.h) or refused;
// "index" (from 0) only for an item of an array; N counts the samples
// acknowledged, repeats included.
//
// An array is one server's samples, oldest first. Once one of its items is
// refused slot_busy or table_full (a refusal that means "later"), its later
// items are not tried and are refused with the same reason: the client sends
// the array again from that item, in time order, which the retry rule needs
// (a timestamped sample is taken for a repeat once a later one of its hour
// was counted, shm/slot.h).
//
// Connection threads; one BatchAnswer at a time per thread: the body is
// written into a thread-local buffer that the next BatchAnswer on the thread
// reuses, so answer()'s body is valid until then. No allocation once the
// buffer has grown.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "http/answer.h"
#include "ingest/ingest_counters.h"
#include "ingest/sample_recorder.h"
#include "shm/segment.h"

namespace servertrack::ingest {

class BatchAnswer {
 public:
  // Every sample is recorded with the receive time `now`.
  BatchAnswer(shm::Segment& segment, IngestCounters& counters, std::int64_t now);

  // `value` is a sample or an array of samples of `name`.
  void record(std::string_view name, simdjson::dom::element value);
  // The whole entry of `name` refused (already counted by the caller).
  void refuse(std::string_view name, const Refusal& refusal);

  http::Answer answer();

 private:
  std::optional<Refusal> record_item(std::string_view name, simdjson::dom::element value);
  void report(std::string_view name, std::optional<std::size_t> index, const Refusal& refusal);

  shm::Segment& segment_;
  IngestCounters& counters_;
  std::int64_t now_;
  std::size_t recorded_ = 0;
  std::size_t rejected_ = 0;
};

}  // namespace servertrack::ingest
