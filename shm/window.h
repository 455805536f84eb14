// Public: the workers and shmtool get it through shm/segment.h; common/
// (the snapshot's JSON) includes it for the Snapshot type alone.
// Bucket arithmetic: from a slot's ring buffers to the two windows the API
// answers (docs/design.md, "Time and buckets").
//
// Pure functions of their arguments; any thread; no allocation.
#pragma once

#include <array>
#include <cstdint>

#include "shm/layout.h"
#include "shm/server_data.h"

namespace servertrack::shm {

// The mean of one bucket. count == 0 means "no data" (distinct from a mean of 0).
struct BucketMean {
  std::uint32_t count = 0;
  double cpu = 0;
  double ram = 0;
};

// Oldest bucket first; the last one is the current, still-filling period.
template <int N>
struct Window {
  std::int64_t start = 0;  // unix time of buckets[0]
  int step = 0;            // seconds per bucket
  std::array<BucketMean, N> buckets{};
};

struct Snapshot {
  Window<kMinuteBuckets> last_60_minutes;
  Window<kHourBuckets> last_24_hours;
  std::int64_t last_sample_unix = 0;
};

// The windows ending in the minute (hour) that contains `now`. A ring position
// whose stored index is not the period asked for is stale and reads as empty.
Snapshot make_snapshot(const SlotCopy& copy, std::int64_t now) noexcept;

}  // namespace servertrack::shm
