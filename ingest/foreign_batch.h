// What one request of another agent's protocol did (POST /write,
// /api/v2/write, /collectd; docs/design.md, "Other agents"): each sample is
// recorded as a JSON sample is (ingest/sample_recorder.h: the same checks,
// the retry rule, the counters) or refused on its own, and the request is
// answered with the outcome: 204 when nothing was refused; else 400 with the
// first refusal and the counts (503 when a refusal means "send it again
// later": a slot stayed busy).
//
// Connection threads; one ForeignBatch per request. No allocation while
// samples are recorded; the first refusal's sentence is kept (one string).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/answer.h"
#include "ingest/ingest_state.h"
#include "ingest/sample_parser.h"

namespace servertrack::ingest {

class ForeignBatch {
 public:
  // `prefix`: the token's name prefix ("" for every name); `now`: the receive
  // time; `item_kind`: how the answer names what a sample came from, e.g.
  // "line" (then "line 3"), a static string.
  ForeignBatch(Ingest& ingest, std::string_view prefix, std::int64_t now, const char* item_kind);

  // `item`: the number of what the sample came from, e.g. 3 for line 3.
  void record(std::size_t item, std::string_view name, const Sample& sample);
  // Counts and reports a refusal found before a sample was made.
  void refuse(std::size_t item, Rejection reason, std::string_view message);

  std::size_t written() const { return written_; }
  std::size_t dropped() const { return dropped_; }

  // The answer, InfluxDB's way: 204, or the status with the body
  // {"<message_member>": "partial write: <first refusal> dropped=N", "written": W,
  // "dropped": N} plus `extra_members` (e.g. "\"code\":\"invalid\",") first.
  // The body lives until the thread's next answer.
  http::Answer answer(std::string_view message_member, std::string_view extra_members);

 private:
  Ingest& ingest_;
  std::string_view prefix_;
  std::int64_t now_;
  const char* item_kind_;
  std::size_t written_ = 0;
  std::size_t dropped_ = 0;
  bool later_ = false;
  std::string first_refusal_;
};

}  // namespace servertrack::ingest
