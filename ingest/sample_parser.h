// The body of POST /server/<name>: a JSON object with the numbers "cpu",
// "ram" or both (at least one; each metric is counted on its own), from 0 to
// shm::kMaxSampleValue (1e15, so no sum of accepted values can overflow),
// and the optional number "time": when the
// sample was taken, in unix seconds, an integer or a fraction (kept to the
// millisecond); other members are ignored (docs/design.md). Whether the time
// is inside the windows is the segment's judgement (shm::Segment::record).
// The whole body must be one valid JSON document: trailing
// garbage such as {"cpu":1,"ram":2}} is refused, as are duplicate members.
//
// The same checks apply to each entry of a batch (POST /servers):
// sample_from_json() is the one validator both use.
//
// One SampleParser per connection thread (thread_local in the handler); the
// simdjson DOM parser inside keeps its buffers between bodies, so parsing a
// small body allocates nothing after the first. Errors are values.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace servertrack::ingest {

inline constexpr std::size_t kParserPadding = simdjson::SIMDJSON_PADDING;

struct Sample {
  bool has_cpu = false;
  bool has_ram = false;
  double cpu = 0;  // when has_cpu
  double ram = 0;  // when has_ram
  bool has_time = false;
  std::int64_t time_ms = 0;  // when has_time: "time" in milliseconds, to the nearest
};

// Why a body or entry was refused.
enum class SampleProblem { none, invalid_json, invalid_value };

struct ParsedSample {
  bool ok = false;
  Sample sample;
  std::string error;  // when !ok: one sentence a person can act on
  SampleProblem problem = SampleProblem::none;
};

// A parsed JSON value checked as one sample: an object with "cpu", "ram" or
// both, and maybe "time".
// A value that is not an object is an invalid_value here (the body-level
// "not an object" is SampleParser's invalid_json).
ParsedSample sample_from_json(simdjson::dom::element value);

// "an object", "a string", ...: a JSON value's type for error messages.
const char* json_type_name(simdjson::dom::element_type type);

// The body of POST /server/<name> once parse_document() returned `error` and
// `root`: invalid_json unless it parsed and is an object, else sample_from_json().
// For a route that first looks at the root itself (an array of samples).
ParsedSample sample_from_document(simdjson::error_code error, simdjson::dom::element root);

class SampleParser {
 public:
  SampleParser();
  // `body` must be followed by kParserPadding readable bytes.
  // parse_document() then sample_from_document().
  ParsedSample parse(std::string_view body);
  // The whole body as one JSON document, for callers with their own shape
  // (the batch route). The element lives until the next call.
  simdjson::error_code parse_document(std::string_view body, simdjson::dom::element& root);

 private:
  simdjson::dom::parser parser_;
};

}  // namespace servertrack::ingest
