// One sample of the host's load as the agent sends it: the appliance's
// timestamped sample {"cpu": ..., "ram": ..., "time": ...} (docs/design.md,
// "The HTTP contract"). A plain value; any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace servertrack::agent {

struct Sample {
  std::int64_t time = 0;  // unix seconds (UTC) when it was taken
  double cpu = 0;         // busy %, 0 to 100
  double ram = 0;         // used %, 0 to 100

  friend bool operator==(const Sample&, const Sample&) = default;
};

// The longest sample_json() can be: 23 characters for each non-negative
// double in its shortest exact form (1.2345678901234567e-100) and 20 for any
// int64 time, plus the 23 of the member names and punctuation.
inline constexpr std::size_t kMaxSampleJsonBytes = 23 + 23 + 23 + 20;

// The sample as a JSON object; numbers in their shortest exact form, so the
// appliance stores exactly the double that was measured.
std::string sample_json(const Sample& sample);

// The samples as a JSON array of sample_json() objects, oldest first: at most
// 2 + count * (kMaxSampleJsonBytes + 1) bytes.
std::string samples_json(std::span<const Sample> samples);

}  // namespace servertrack::agent
