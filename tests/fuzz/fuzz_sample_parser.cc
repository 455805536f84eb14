// libFuzzer target: the body of POST /server/<name> through the ingest
// worker's SampleParser (ingest/sample_parser.h), called as the route calls
// it: one parser reused for every body, the body followed by kParserPadding
// readable bytes (padded_parse.h).
//
// Properties checked on every input (besides no crash, leak or UB):
// - a refusal carries an error message;
// - an accepted sample has cpu, ram or both, each from 0 to
//   shm::kMaxSampleValue, and a stated time that is not negative;
// - an accepted sample, written back as {"cpu":X,"ram":Y} (the members it
//   has, and "time" in
//   milliseconds / 1000) with the shortest text that reads back as the same
//   double (how the query worker prints means), is accepted again with equal
//   values.
#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ingest/sample_parser.h"
#include "shm/segment.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/padded_parse.h"

namespace {

using servertrack::fuzz::parse_padded;
using servertrack::fuzz::require;
using servertrack::ingest::ParsedSample;
using servertrack::ingest::SampleParser;

bool in_bounds(double value) { return value >= 0 && value <= servertrack::shm::kMaxSampleValue; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static SampleParser parser;
  const ParsedSample parsed =
      parse_padded(parser, {reinterpret_cast<const char*>(data), size});
  if (!parsed.ok) {
    require(!parsed.error.empty(), "a refused body has an error message");
    return 0;
  }
  const auto [has_cpu, has_ram, cpu, ram, has_time, time_ms] = parsed.sample;
  require(has_cpu || has_ram, "an accepted sample has cpu or ram");
  require(!has_cpu || in_bounds(cpu), "an accepted cpu is from 0 to 1e15");
  require(!has_ram || in_bounds(ram), "an accepted ram is from 0 to 1e15");
  require(time_ms >= 0 && (has_time || time_ms == 0), "an accepted time is not negative");
  std::string members;
  if (has_cpu) members += fmt::format(R"(,"cpu":{})", cpu);
  if (has_ram) members += fmt::format(R"(,"ram":{})", ram);
  if (has_time) members += fmt::format(R"(,"time":{}.{:03})", time_ms / 1000, time_ms % 1000);
  members[0] = '{';
  const ParsedSample again = parse_padded(parser, members + "}");
  require(again.ok, "an accepted sample, re-serialized, is accepted again");
  require(again.sample.has_cpu == has_cpu && again.sample.has_ram == has_ram &&
              (!has_cpu || again.sample.cpu == cpu) && (!has_ram || again.sample.ram == ram) &&
              again.sample.has_time == has_time && again.sample.time_ms == time_ms,
          "an accepted sample, re-serialized, parses to the same values");
  return 0;
}
