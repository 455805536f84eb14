#include "cli/invariants.h"

#include <fmt/core.h>

#include "cli/format.h"
#include "shm/invariants.h"

namespace servertrack::cli {

std::string describe_problem(const shm::DataProblem& p, const shm::SlotCopy& data, std::int64_t now) {
  using Kind = shm::DataProblem::Kind;
  constexpr const char* kRings[] = {"minute", "hour", "day"};
  constexpr std::int64_t kSteps[] = {shm::kSecondsPerMinute, shm::kSecondsPerHour, shm::kSecondsPerDay};
  const int ring = static_cast<int>(p.ring);
  const std::size_t ring_size = p.ring == shm::Ring::minutes ? shm::kMinuteBuckets
                                : p.ring == shm::Ring::hours ? shm::kHourBuckets
                                                             : static_cast<std::size_t>(data.day_count);
  const std::string where = fmt::format("{} bucket {} (index {})", kRings[ring], p.position, p.period);
  const char* metric = p.metric == shm::kRam ? "ram" : "cpu";
  switch (p.kind) {
    case Kind::misplaced:
      return fmt::format("{} belongs at ring position {}", where, p.period % ring_size);
    case Kind::from_future:
      return fmt::format("{} is from the future: it starts {}, now is {}", where,
                         utc_time(std::int64_t{p.period} * kSteps[ring]), utc_time(now));
    case Kind::unsound_sum:
      return fmt::format("{} has a negative or non-finite {} sum ({})", where, metric, p.value);
    case Kind::sums_without_samples:
      return fmt::format("{} has no {} samples but a non-zero {} sum or peak (sum {})", where, metric, metric,
                         p.value);
    case Kind::unsound_peak:
      return fmt::format("{} has a negative or non-finite {} peak ({})", where, metric, p.value);
    case Kind::peak_below_mean:
      return fmt::format("{} has a {} peak ({}) below its mean", where, metric, p.value);
    case Kind::marks_beyond_period:
      return fmt::format("{} has {} retry marks {:#x} beyond its period", where, metric, p.detail);
    case Kind::more_marks_than_samples:
      return fmt::format("{} has {} {} retry marks but {} samples", where, p.detail, metric, p.value);
    case Kind::last_sample_in_future:
      return fmt::format("last sample time {} is in the future (now {})", utc_time(data.last_sample_unix),
                         utc_time(now));
    case Kind::minute_after_last_sample:
      return fmt::format("{} has samples after the last sample time {}", where, utc_time(data.last_sample_unix));
    case Kind::hour_short_of_minutes:
      return fmt::format("{} counts {} {} samples, fewer than its minutes' {}", where, p.value, metric, p.detail);
    case Kind::day_short_of_hours:
      return fmt::format("{} counts {} {} samples, fewer than its hours' {}", where, p.value, metric, p.detail);
  }
  return "unknown problem";
}

std::vector<std::string> data_problem_sentences(const shm::SlotCopy& data, std::int64_t now) {
  std::vector<std::string> texts;
  for (const shm::DataProblem& p : shm::data_problems(data, now)) texts.push_back(describe_problem(p, data, now));
  return texts;
}

}  // namespace servertrack::cli
