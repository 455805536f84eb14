#include "cli/invariants.h"

#include <fmt/core.h>

#include <cmath>
#include <span>

#include "cli/format.h"

namespace servertrack::cli {
namespace {

bool sound_sum(double sum) { return std::isfinite(sum) && sum >= 0; }

void check_ring(std::span<const shm::BucketValue> ring, const char* unit, std::int64_t step, std::int64_t now,
                std::vector<std::string>& problems) {
  const std::int64_t current = (now + shm::kClockSlack) / step;
  for (std::size_t pos = 0; pos < ring.size(); ++pos) {
    const shm::BucketValue& b = ring[pos];
    if (b.index == 0 && b.count == 0 && b.cpu_sum == 0 && b.ram_sum == 0) continue;  // never written
    const std::string where = fmt::format("{} bucket {} (index {})", unit, pos, b.index);
    if (b.index % ring.size() != pos) {
      problems.push_back(fmt::format("{} belongs at ring position {}", where, b.index % ring.size()));
    }
    if (b.index > current) {
      problems.push_back(fmt::format("{} is from the future: it starts {}, now is {}", where, utc_time(b.index * step),
                                     utc_time(now)));
    }
    if (!sound_sum(b.cpu_sum) || !sound_sum(b.ram_sum)) {
      problems.push_back(
          fmt::format("{} has a negative or non-finite sum (cpu {}, ram {})", where, b.cpu_sum, b.ram_sum));
    } else if (b.count == 0 && (b.cpu_sum != 0 || b.ram_sum != 0)) {
      problems.push_back(
          fmt::format("{} has no samples but non-zero sums (cpu {}, ram {})", where, b.cpu_sum, b.ram_sum));
    }
  }
}

}  // namespace

std::vector<std::string> data_problems(const shm::SlotCopy& data, std::int64_t now) {
  std::vector<std::string> problems;
  check_ring(data.minutes, "minute", 60, now, problems);
  check_ring(data.hours, "hour", 3600, now, problems);
  if (data.last_sample_unix > now + shm::kClockSlack) {
    problems.push_back(
        fmt::format("last sample time {} is in the future (now {})", utc_time(data.last_sample_unix), utc_time(now)));
  }
  for (const shm::BucketValue& m : data.minutes) {
    if (m.count > 0 && m.index > data.last_sample_unix / 60) {
      problems.push_back(fmt::format("minute bucket {} (index {}) has samples after the last sample time {}",
                                     m.index % shm::kMinuteBuckets, m.index, utc_time(data.last_sample_unix)));
    }
  }
  constexpr std::uint32_t kHourMarks = 3600 * 1000;  // 1 + the last millisecond of an hour
  for (int i = 0; i < shm::kHourBuckets; ++i) {
    if (data.hour_newest[i] > kHourMarks) {
      problems.push_back(fmt::format("hour bucket {} has retry mark {}, beyond the hour's {} milliseconds", i,
                                     data.hour_newest[i], kHourMarks));
    }
  }
  for (const shm::BucketValue& h : data.hours) {
    std::uint64_t in_minutes = 0;
    for (const shm::BucketValue& m : data.minutes) {
      if (m.index / 60 == h.index) in_minutes += m.count;
    }
    if (in_minutes > h.count) {
      problems.push_back(fmt::format("hour bucket {} (index {}) counts {} samples, fewer than its minutes' {}",
                                     h.index % shm::kHourBuckets, h.index, h.count, in_minutes));
    }
  }
  return problems;
}

}  // namespace servertrack::cli
