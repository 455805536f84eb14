// The invariants of one server's data (shm/invariants.h): sound data has no
// problem, and each planted break is reported as its own kind, at its place.
#include <gtest/gtest.h>

#include <cmath>
#include <type_traits>

#include "shm/invariants.h"

namespace servertrack::shm {
namespace {

using Kind = DataProblem::Kind;

constexpr std::int64_t kNow = 1735689600 + 3600 * 10 + 60 * 30;  // minute 30 of an hour

template <class Value>
Value bucket(std::uint32_t index, std::uint32_t count, double sum, float max) {
  Value v{};
  v.index = index;
  for (int m = 0; m < kMetrics; ++m) {
    v.count[m] = static_cast<std::remove_reference_t<decltype(v.count[m])>>(count);
    v.sum[m] = sum;
    v.max[m] = max;
  }
  return v;
}

// A server with 3 samples (10, 10, 10; ram too) in the current minute, and
// so in its hour and its day (30 days).
SlotCopy sound() {
  SlotCopy data{};
  const auto minute = static_cast<std::uint32_t>(kNow / 60);
  const auto hour = static_cast<std::uint32_t>(kNow / 3600);
  const auto day = static_cast<std::uint32_t>(kNow / 86400);
  data.minutes[minute % kMinuteBuckets] = bucket<MinuteValue>(minute, 3, 30, 10);
  data.minutes[minute % kMinuteBuckets].seconds[kCpu] = 0b101;  // two stated seconds
  data.hours[hour % kHourBuckets] = bucket<HourValue>(hour, 3, 30, 10);
  data.day_count = 30;
  DayValue d{};
  d.key = day_key(day, 1u << 10, 0);
  for (int m = 0; m < kMetrics; ++m) {
    d.count[m] = 3;
    d.sum[m] = 30;
    d.max[m] = 10;
  }
  data.days[day % 30] = d;
  data.last_sample_unix = kNow;
  return data;
}

std::vector<Kind> kinds(const SlotCopy& data) {
  std::vector<Kind> out;
  for (const DataProblem& p : data_problems(data, kNow)) out.push_back(p.kind);
  return out;
}

TEST(InvariantsTest, SoundDataHasNoProblem) {
  EXPECT_TRUE(data_problems(sound(), kNow).empty());
  EXPECT_TRUE(data_problems(SlotCopy{}, kNow).empty()) << "a slot never written";
}

TEST(InvariantsTest, EachBreakIsReportedAtItsPlace) {
  const auto minute = static_cast<std::uint32_t>(kNow / 60);
  const auto hour = static_cast<std::uint32_t>(kNow / 3600);
  const auto day = static_cast<std::uint32_t>(kNow / 86400);
  const std::uint32_t here = minute % kMinuteBuckets;

  SlotCopy misplaced = sound();
  misplaced.minutes[(here + 1) % kMinuteBuckets] = bucket<MinuteValue>(minute - 60, 1, 1, 1);
  const auto problems = data_problems(misplaced, kNow);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].kind, Kind::misplaced);
  EXPECT_EQ(problems[0].ring, Ring::minutes);
  EXPECT_EQ(problems[0].position, (here + 1) % kMinuteBuckets);

  SlotCopy future = sound();
  future.last_sample_unix = kNow + kClockSlack + 1;
  EXPECT_EQ(kinds(future), std::vector{Kind::last_sample_in_future});

  SlotCopy ahead = sound();
  ahead.hours[(hour + 2) % kHourBuckets] = bucket<HourValue>(hour + 2, 0, 0, 0);
  EXPECT_EQ(kinds(ahead), std::vector{Kind::from_future});

  SlotCopy day_ahead = sound();
  day_ahead.days[(day + 2) % 30].key = day_key(day + 2, 0, 0);
  const auto days_ahead = data_problems(day_ahead, kNow);
  ASSERT_EQ(days_ahead.size(), 1u);
  EXPECT_EQ(days_ahead[0].kind, Kind::from_future);
  EXPECT_EQ(days_ahead[0].ring, Ring::days);

  SlotCopy infinite = sound();
  infinite.hours[hour % kHourBuckets].sum[kRam] = INFINITY;
  const auto infinite_problems = data_problems(infinite, kNow);
  ASSERT_EQ(infinite_problems.size(), 1u);
  EXPECT_EQ(infinite_problems[0].kind, Kind::unsound_sum);
  EXPECT_EQ(infinite_problems[0].metric, kRam);

  SlotCopy empty_sums = sound();
  empty_sums.hours[(hour - 1) % kHourBuckets] = bucket<HourValue>(hour - 1, 0, 0, 0);
  empty_sums.hours[(hour - 1) % kHourBuckets].sum[kCpu] = 5;
  EXPECT_EQ(kinds(empty_sums), std::vector{Kind::sums_without_samples});

  SlotCopy low_peak = sound();
  low_peak.minutes[here].max[kCpu] = 9;  // below the mean 10
  EXPECT_EQ(kinds(low_peak), std::vector{Kind::peak_below_mean});

  SlotCopy bad_peak = sound();
  bad_peak.days[day % 30].max[kRam] = -1;
  EXPECT_EQ(kinds(bad_peak), std::vector{Kind::unsound_peak});

  SlotCopy after_last = sound();
  after_last.last_sample_unix = kNow - 60;
  EXPECT_EQ(kinds(after_last), std::vector{Kind::minute_after_last_sample});

  SlotCopy past_59 = sound();
  past_59.minutes[here].seconds[kRam] = std::uint64_t{1} << 60;
  const auto marks = data_problems(past_59, kNow);
  ASSERT_EQ(marks.size(), 1u);
  EXPECT_EQ(marks[0].kind, Kind::marks_beyond_period);
  EXPECT_EQ(marks[0].metric, kRam);
  EXPECT_EQ(marks[0].detail, std::uint64_t{1} << 60);

  SlotCopy too_many_marks = sound();
  too_many_marks.minutes[here].seconds[kCpu] = 0b1111;  // 4 seconds marked, 3 samples
  EXPECT_EQ(kinds(too_many_marks), std::vector{Kind::more_marks_than_samples});

  SlotCopy short_hour = sound();
  short_hour.hours[hour % kHourBuckets].count[kCpu] = 2;
  short_hour.hours[hour % kHourBuckets].sum[kCpu] = 20;
  const auto shortfall = data_problems(short_hour, kNow);
  ASSERT_EQ(shortfall.size(), 1u);
  EXPECT_EQ(shortfall[0].kind, Kind::hour_short_of_minutes);
  EXPECT_EQ(shortfall[0].detail, 3u);

  SlotCopy short_day = sound();
  short_day.days[day % 30].count[kRam] = 2;
  short_day.days[day % 30].sum[kRam] = 20;
  const auto day_shortfall = data_problems(short_day, kNow);
  ASSERT_EQ(day_shortfall.size(), 1u);
  EXPECT_EQ(day_shortfall[0].kind, Kind::day_short_of_hours);
  EXPECT_EQ(day_shortfall[0].metric, kRam);
}

}  // namespace
}  // namespace servertrack::shm
