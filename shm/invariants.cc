#include "shm/invariants.h"

#include <cmath>
#include <span>

namespace servertrack::shm {
namespace {

bool sound_sum(double sum) { return std::isfinite(sum) && sum >= 0; }

void check_ring(std::span<const BucketValue> ring, Ring which, std::int64_t step, std::int64_t now,
                std::vector<DataProblem>& problems) {
  using Kind = DataProblem::Kind;
  const std::int64_t current = (now + kClockSlack) / step;
  for (std::uint32_t pos = 0; pos < ring.size(); ++pos) {
    const BucketValue& b = ring[pos];
    if (b.index == 0 && b.count == 0 && b.cpu_sum == 0 && b.ram_sum == 0) continue;  // never written
    if (b.index % ring.size() != pos) problems.push_back({Kind::misplaced, which, pos, b, 0});
    if (b.index > current) problems.push_back({Kind::from_future, which, pos, b, 0});
    if (!sound_sum(b.cpu_sum) || !sound_sum(b.ram_sum)) {
      problems.push_back({Kind::unsound_sum, which, pos, b, 0});
    } else if (b.count == 0 && (b.cpu_sum != 0 || b.ram_sum != 0)) {
      problems.push_back({Kind::sums_without_samples, which, pos, b, 0});
    }
  }
}

}  // namespace

std::vector<DataProblem> data_problems(const SlotCopy& data, std::int64_t now) {
  using Kind = DataProblem::Kind;
  std::vector<DataProblem> problems;
  check_ring(data.minutes, Ring::minutes, 60, now, problems);
  check_ring(data.hours, Ring::hours, 3600, now, problems);
  if (data.last_sample_unix > now + kClockSlack) {
    problems.push_back({Kind::last_sample_in_future, Ring::minutes, 0, {}, 0});
  }
  for (const BucketValue& m : data.minutes) {
    if (m.count > 0 && m.index > data.last_sample_unix / 60) {
      problems.push_back({Kind::minute_after_last_sample, Ring::minutes, m.index % kMinuteBuckets, m, 0});
    }
  }
  for (std::uint32_t i = 0; i < kHourBuckets; ++i) {
    if (data.hour_newest[i] > kHourMarks) {
      problems.push_back({Kind::retry_mark_beyond_hour, Ring::hours, i, data.hours[i], data.hour_newest[i]});
    }
  }
  for (const BucketValue& h : data.hours) {
    std::uint64_t in_minutes = 0;
    for (const BucketValue& m : data.minutes) {
      if (m.index / 60 == h.index) in_minutes += m.count;
    }
    if (in_minutes > h.count) {
      problems.push_back({Kind::hour_short_of_minutes, Ring::hours, h.index % kHourBuckets, h, in_minutes});
    }
  }
  return problems;
}

}  // namespace servertrack::shm
