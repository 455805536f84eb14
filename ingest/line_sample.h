// Which sample a line of line protocol stands for (docs/design.md, "Other
// agents"; README, "Telegraf and collectd"). Telegraf's default inputs:
//   cpu  with tag cpu=cpu-total (or no cpu tag):  cpu = 100 - usage_idle
//        (lines of single cores, cpu=cpu0 ..., and lines without usage_idle
//        are ignored)
//   mem: ram = 100 - available_percent, which is the agent's definition
//        ((MemTotal - MemAvailable) / MemTotal); used_percent only when
//        available_percent is absent; a line with neither is ignored
// both percentages from 0 to 100. The override, for any sender that computes
// its own values (a Telegraf processor, a script):
//   servertrack  cpu=..., ram=...  (either or both, recorded as they are, from
//                0 to 1e15 like the JSON API's)
// The tag `host` is the server's name; the timestamp, when present, is the
// sample's time (like "time" in the JSON API). Lines of other measurements are
// ignored (counted in /metrics).
//
// A pure function over a checked line; any thread; no allocation.
#pragma once

#include <cstdint>
#include <string_view>

#include "ingest/ingest_counters.h"
#include "ingest/line_protocol.h"
#include "ingest/sample_parser.h"

namespace servertrack::ingest {

struct LineSample {
  enum class Kind { sample, ignored, refused } kind = Kind::ignored;
  std::string_view name;  // the host tag as written (a valid name needs no escape)
  Sample sample;          // when kind == sample
  Rejection reason = Rejection::invalid_value;  // when refused
  const char* message = "";  // when refused: a static sentence
};

// `precision`: the request's unit of timestamps.
LineSample line_sample(const Line& line, Precision precision);

}  // namespace servertrack::ingest
