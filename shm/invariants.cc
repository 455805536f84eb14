#include "shm/invariants.h"

#include <bit>
#include <cmath>
#include <span>

namespace servertrack::shm {
namespace {

using Kind = DataProblem::Kind;

// What every bucket kind has, for judging them alike.
struct Facts {
  std::uint32_t period;
  bool written;  // any field not zero
  std::uint32_t count[kMetrics];
  float max[kMetrics];
  double sum[kMetrics];
  std::uint64_t marks[kMetrics];
  std::uint64_t mark_bits;  // the bits a mark may use
};

template <class Value>
Facts common_facts(const Value& v, std::uint32_t period, std::uint64_t mark_bits) {
  Facts f{period, false, {}, {}, {}, {}, mark_bits};
  for (int m = 0; m < kMetrics; ++m) {
    f.count[m] = v.count[m];
    f.max[m] = v.max[m];
    f.sum[m] = v.sum[m];
    f.written = f.written || v.count[m] != 0 || v.max[m] != 0 || v.sum[m] != 0;
  }
  f.written = f.written || period != 0;
  return f;
}

constexpr std::uint64_t kSixtyBits = (std::uint64_t{1} << 60) - 1;

Facts facts(const MinuteValue& v) {
  Facts f = common_facts(v, v.index, kSixtyBits);
  for (int m = 0; m < kMetrics; ++m) f.marks[m] = v.seconds[m];
  f.written = f.written || v.seconds[0] != 0 || v.seconds[1] != 0;
  return f;
}
Facts facts(const HourValue& v) {
  Facts f = common_facts(v, v.index, kSixtyBits);
  for (int m = 0; m < kMetrics; ++m) f.marks[m] = v.minutes[m];
  f.written = f.written || v.minutes[0] != 0 || v.minutes[1] != 0 || v.reserved != 0;
  if (v.reserved != 0) f.marks[0] |= ~kSixtyBits;  // reported as marks beyond the hour
  return f;
}
Facts facts(const DayValue& v) {
  Facts f = common_facts(v, day_of_key(v.key), 0xff'ffff);
  for (int m = 0; m < kMetrics; ++m) f.marks[m] = hours_of_key(v.key, m);
  f.written = f.written || v.key != 0;
  return f;
}

bool sound(double value) { return std::isfinite(value) && value >= 0; }

template <class Value>
void check_ring(std::span<const Value> ring, Ring which, std::int64_t step, std::int64_t now,
                std::vector<DataProblem>& problems) {
  const std::int64_t current = (now + kClockSlack) / step;
  for (std::uint32_t pos = 0; pos < ring.size(); ++pos) {
    const Facts f = facts(ring[pos]);
    if (!f.written) continue;
    const auto add = [&](Kind kind, int metric, double value, std::uint64_t detail) {
      problems.push_back({kind, which, pos, f.period, metric, value, detail});
    };
    if (f.period % ring.size() != pos) add(Kind::misplaced, -1, 0, 0);
    if (f.period > current) add(Kind::from_future, -1, 0, 0);
    for (int m = 0; m < kMetrics; ++m) {
      if (!sound(f.sum[m])) {
        add(Kind::unsound_sum, m, f.sum[m], 0);
      } else if (f.count[m] == 0 && (f.sum[m] != 0 || f.max[m] != 0)) {
        add(Kind::sums_without_samples, m, f.sum[m], 0);
      }
      if (!sound(f.max[m])) {
        add(Kind::unsound_peak, m, f.max[m], 0);
      } else if (f.count[m] > 0 && sound(f.sum[m]) &&
                 f.sum[m] / f.count[m] > double{f.max[m]} * (1 + 1e-6) + 1e-30) {  // a float peak rounds
        add(Kind::peak_below_mean, m, f.max[m], 0);
      }
      if ((f.marks[m] & ~f.mark_bits) != 0) add(Kind::marks_beyond_period, m, 0, f.marks[m]);
      const auto marks = static_cast<std::uint32_t>(std::popcount(f.marks[m] & f.mark_bits));
      if (marks > f.count[m]) add(Kind::more_marks_than_samples, m, f.count[m], marks);
    }
  }
}

// Each bucket of `coarse` counts at least the samples of the `fine` buckets
// inside its period (a fine bucket is finer by `ratio`).
template <class Coarse, class Fine>
void check_sums(std::span<const Coarse> coarse, std::span<const Fine> fine, std::uint32_t ratio, Ring which,
                Kind kind, std::vector<DataProblem>& problems) {
  for (std::uint32_t pos = 0; pos < coarse.size(); ++pos) {
    const Facts c = facts(coarse[pos]);
    for (int m = 0; m < kMetrics; ++m) {
      std::uint64_t inside = 0;
      for (const Fine& fine_bucket : fine) {
        const Facts f = facts(fine_bucket);
        if (f.period / ratio == c.period) inside += f.count[m];
      }
      if (inside > c.count[m]) problems.push_back({kind, which, pos, c.period, m, double(c.count[m]), inside});
    }
  }
}

}  // namespace

std::vector<DataProblem> data_problems(const SlotCopy& data, std::int64_t now) {
  std::vector<DataProblem> problems;
  const std::span<const DayValue> days(data.days, static_cast<std::size_t>(data.day_count));
  check_ring(std::span<const MinuteValue>(data.minutes), Ring::minutes, kSecondsPerMinute, now, problems);
  check_ring(std::span<const HourValue>(data.hours), Ring::hours, kSecondsPerHour, now, problems);
  check_ring(days, Ring::days, kSecondsPerDay, now, problems);
  if (data.last_sample_unix > now + kClockSlack) {
    problems.push_back({Kind::last_sample_in_future, Ring::minutes, 0, 0, -1, 0, 0});
  }
  for (const MinuteValue& m : data.minutes) {
    if ((m.count[kCpu] > 0 || m.count[kRam] > 0) && m.index > data.last_sample_unix / kSecondsPerMinute) {
      problems.push_back({Kind::minute_after_last_sample, Ring::minutes, m.index % kMinuteBuckets, m.index, -1, 0, 0});
    }
  }
  check_sums(std::span<const HourValue>(data.hours), std::span<const MinuteValue>(data.minutes), 60, Ring::hours,
             Kind::hour_short_of_minutes, problems);
  check_sums(days, std::span<const HourValue>(data.hours), 24, Ring::days, Kind::day_short_of_hours, problems);
  return problems;
}

}  // namespace servertrack::shm
