// Public: the workers and shmtool get it through shm/segment.h; common/
// (the snapshot's JSON) includes it for the Snapshot type alone.
// Bucket arithmetic: from a slot's ring buffers to the three windows the API
// answers (docs/design.md, "Time and buckets").
//
// Pure functions of their arguments; any thread; no allocation.
#pragma once

#include <array>
#include <cstdint>

#include "shm/layout.h"
#include "shm/server_data.h"

namespace servertrack::shm {

// One metric in one bucket: how many samples of it were counted there, their
// mean and their maximum. count == 0 means "no sample of this metric" (distinct
// from a mean of 0); mean and max are then 0.
struct MetricMean {
  std::uint32_t count = 0;
  double mean = 0;
  double max = 0;
};

// Each metric counts on its own: a bucket may hold cpu samples and no ram.
struct BucketMean {
  MetricMean cpu;
  MetricMean ram;
};

// Oldest bucket first; the last one is the current, still-filling period.
// Only the first `length` buckets belong to the window (the day window's
// length is the segment's days, up to kMaxDays; 0: the segment keeps no days).
template <int N>
struct Window {
  std::int64_t start = 0;  // unix time of buckets[0]
  int step = 0;            // seconds per bucket
  int length = N;          // buckets in the window, 0..N
  std::array<BucketMean, N> buckets{};
};

struct Snapshot {
  Window<kMinuteBuckets> last_60_minutes;
  Window<kHourBuckets> last_24_hours;
  Window<kMaxDays> last_days;  // step 86400 (UTC days); length = Segment::days()
  std::int64_t last_sample_unix = 0;
};

// The newest sample's time and the means of its minute and of its hour: what
// a fleet listing shows and sorts by (Segment::copy_latest_minute()).
// `minute` is the minute bucket holding the newest sample; its counts are 0
// when that minute is no longer in the ring (or the slot never had a sample:
// last_sample_unix == 0). `hour` is the hour bucket of the newest sample's
// hour, likewise. `holds` is false when the slot no longer holds server
// `name` (deleted or reused since the caller read its name); the rest is then
// meaningless.
struct LatestMinute {
  std::int64_t last_sample_unix = 0;
  BucketMean minute;
  BucketMean hour;
  bool holds = false;
};

// The mean, count and maximum of each metric of one stored bucket, judged
// against the period it should hold: empty when it holds another.
BucketMean bucket_mean(const MinuteValue& bucket, std::int64_t period) noexcept;
BucketMean bucket_mean(const HourValue& bucket, std::int64_t period) noexcept;
BucketMean bucket_mean(const DayValue& bucket, std::int64_t period) noexcept;

// The windows ending in the minute (hour, day) that contains `now`; the day
// window has copy.day_count buckets. A ring position whose stored period is
// not the one asked for is stale and reads as empty.
Snapshot make_snapshot(const SlotCopy& copy, std::int64_t now) noexcept;

}  // namespace servertrack::shm
