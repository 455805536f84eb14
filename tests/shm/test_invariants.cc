// The invariants of one server's data (shm/invariants.h): sound data has no
// problem, and each planted break is reported as its own kind, at its place.
#include <gtest/gtest.h>

#include <cmath>

#include "shm/invariants.h"

namespace servertrack::shm {
namespace {

using Kind = DataProblem::Kind;

constexpr std::int64_t kNow = 1735689600 + 3600 * 10 + 60 * 30;  // minute 30 of an hour

// A server with 3 samples in the current minute (and so in its hour).
SlotCopy sound() {
  SlotCopy data{};
  const auto minute = static_cast<std::uint32_t>(kNow / 60);
  const auto hour = static_cast<std::uint32_t>(kNow / 3600);
  data.minutes[minute % kMinuteBuckets] = {minute, 3, 30, 60};
  data.hours[hour % kHourBuckets] = {hour, 3, 30, 60};
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
  const std::uint32_t here = minute % kMinuteBuckets;

  SlotCopy misplaced = sound();
  misplaced.minutes[(here + 1) % kMinuteBuckets] = {minute - 60, 1, 1, 1};
  misplaced.hours[hour % kHourBuckets].count = 4;
  const auto problems = data_problems(misplaced, kNow);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].kind, Kind::misplaced);
  EXPECT_EQ(problems[0].ring, Ring::minutes);
  EXPECT_EQ(problems[0].position, (here + 1) % kMinuteBuckets);

  SlotCopy future = sound();
  future.last_sample_unix = kNow + kClockSlack + 1;
  EXPECT_EQ(kinds(future), std::vector{Kind::last_sample_in_future});

  SlotCopy ahead = sound();
  ahead.hours[(hour + 2) % kHourBuckets] = {hour + 2, 0, 0, 0};
  EXPECT_EQ(kinds(ahead), std::vector{Kind::from_future});

  SlotCopy infinite = sound();
  infinite.hours[hour % kHourBuckets].cpu_sum = INFINITY;
  EXPECT_EQ(kinds(infinite), std::vector{Kind::unsound_sum});

  SlotCopy empty_sums = sound();
  empty_sums.hours[(hour - 1) % kHourBuckets] = {hour - 1, 0, 5, 0};
  EXPECT_EQ(kinds(empty_sums), std::vector{Kind::sums_without_samples});

  SlotCopy after_last = sound();
  after_last.last_sample_unix = kNow - 60;
  EXPECT_EQ(kinds(after_last), std::vector{Kind::minute_after_last_sample});

  SlotCopy mark = sound();
  mark.hour_newest[3] = kHourMarks + 1;
  const auto marks = data_problems(mark, kNow);
  ASSERT_EQ(marks.size(), 1u);
  EXPECT_EQ(marks[0].kind, Kind::retry_mark_beyond_hour);
  EXPECT_EQ(marks[0].position, 3u);
  EXPECT_EQ(marks[0].detail, kHourMarks + 1);

  SlotCopy short_hour = sound();
  short_hour.hours[hour % kHourBuckets].count = 2;
  const auto shortfall = data_problems(short_hour, kNow);
  ASSERT_EQ(shortfall.size(), 1u);
  EXPECT_EQ(shortfall[0].kind, Kind::hour_short_of_minutes);
  EXPECT_EQ(shortfall[0].detail, 3u);
}

}  // namespace
}  // namespace servertrack::shm
