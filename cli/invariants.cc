#include "cli/invariants.h"

#include <fmt/core.h>

#include "cli/format.h"
#include "shm/invariants.h"

namespace servertrack::cli {
namespace {

std::string describe(const shm::DataProblem& p, const shm::SlotCopy& data, std::int64_t now) {
  using Kind = shm::DataProblem::Kind;
  const bool minutes = p.ring == shm::Ring::minutes;
  const std::size_t ring_size = minutes ? shm::kMinuteBuckets : shm::kHourBuckets;
  const shm::BucketValue& b = p.bucket;
  const std::string where = fmt::format("{} bucket {} (index {})", minutes ? "minute" : "hour", p.position, b.index);
  switch (p.kind) {
    case Kind::misplaced:
      return fmt::format("{} belongs at ring position {}", where, b.index % ring_size);
    case Kind::from_future:
      return fmt::format("{} is from the future: it starts {}, now is {}", where,
                         utc_time(std::int64_t{b.index} * (minutes ? 60 : 3600)), utc_time(now));
    case Kind::unsound_sum:
      return fmt::format("{} has a negative or non-finite sum (cpu {}, ram {})", where, b.cpu_sum, b.ram_sum);
    case Kind::sums_without_samples:
      return fmt::format("{} has no samples but non-zero sums (cpu {}, ram {})", where, b.cpu_sum, b.ram_sum);
    case Kind::last_sample_in_future:
      return fmt::format("last sample time {} is in the future (now {})", utc_time(data.last_sample_unix),
                         utc_time(now));
    case Kind::minute_after_last_sample:
      return fmt::format("minute bucket {} (index {}) has samples after the last sample time {}", p.position,
                         b.index, utc_time(data.last_sample_unix));
    case Kind::retry_mark_beyond_hour:
      return fmt::format("hour bucket {} has retry mark {}, beyond the hour's {} milliseconds", p.position,
                         p.detail, shm::kHourMarks);
    case Kind::hour_short_of_minutes:
      return fmt::format("hour bucket {} (index {}) counts {} samples, fewer than its minutes' {}", p.position,
                         b.index, b.count, p.detail);
  }
  return "unknown problem";
}

}  // namespace

std::vector<std::string> data_problems(const shm::SlotCopy& data, std::int64_t now) {
  std::vector<std::string> texts;
  for (const shm::DataProblem& p : shm::data_problems(data, now)) texts.push_back(describe(p, data, now));
  return texts;
}

}  // namespace servertrack::cli
