// One sample of the host's load as the agent sends it: the appliance's
// timestamped sample {"cpu": ..., "ram": ..., "time": ...} (docs/design.md,
// "The HTTP contract"). A plain value; any thread.
#pragma once

#include <cstdint>
#include <string>

namespace servertrack::agent {

struct Sample {
  std::int64_t time = 0;  // unix seconds (UTC) when it was taken
  double cpu = 0;         // busy %, 0 to 100
  double ram = 0;         // used %, 0 to 100

  friend bool operator==(const Sample&, const Sample&) = default;
};

// The sample as a JSON object; numbers in their shortest exact form, so the
// appliance stores exactly the double that was measured.
std::string sample_json(const Sample& sample);

}  // namespace servertrack::agent
