// What a bucket knows (layout 5): every distinct stated sample counted once
// whatever the order it arrives in, and a retry of it not again; each metric
// on its own; the peaks; the day window; the minute bucket's limit.
#include <gtest/gtest.h>

#include <numeric>
#include <string>
#include <vector>

#include "tests/shm/support.h"

namespace servertrack::shm::test {
namespace {

constexpr std::int64_t kNow = 1735689600 + 3600 * 10 + 60 * 25;  // 2025-01-01 10:25:00 UTC
constexpr std::int64_t kT = kNow - 600;                           // 10:15:00

struct Arrival {
  std::int64_t stated;  // unix seconds the sender says
  std::int64_t at;      // the appliance's clock when it arrives
};

SampleValue stated(double cpu, std::int64_t unix_seconds) { return stated_sample(cpu, cpu, unix_seconds * 1000); }

// Samples of one server summed over the minute window, per metric.
std::uint32_t counted(Segment& segment, std::string_view name, Metric metric = kCpu, std::int64_t now = kNow) {
  Snapshot s;
  EXPECT_EQ(segment.snapshot(name, now, s), Status::ok);
  std::uint32_t n = 0;
  for (const BucketMean& b : s.last_60_minutes.buckets) n += metric == kCpu ? b.cpu.count : b.ram.count;
  return n;
}

// Posts every arrival (each a distinct sample): all are acknowledged and all
// count; then posts every one again: each is a repeat and nothing changes.
void expect_each_counted_once(const std::vector<Arrival>& arrivals) {
  TestSegment segment(8);
  for (const Arrival& a : arrivals) {
    EXPECT_EQ(segment->record("web-1", stated(10, a.stated), a.at), Status::ok) << a.stated - kT;
  }
  const std::int64_t last = arrivals.back().at;
  EXPECT_EQ(counted(*segment, "web-1", kCpu, last), arrivals.size());
  for (const Arrival& a : arrivals) {
    EXPECT_EQ(segment->record("web-1", stated(10, a.stated), last), Status::repeat) << a.stated - kT;
  }
  EXPECT_EQ(counted(*segment, "web-1", kCpu, last), arrivals.size());
  Snapshot s;
  ASSERT_EQ(segment->snapshot("web-1", last, s), Status::ok);
  EXPECT_EQ(s.last_24_hours.buckets[23].cpu.count, arrivals.size());
  EXPECT_EQ(s.last_days.buckets[0].cpu.count, 0u);  // this segment keeps no days
}

TEST(RetryRule, ALaterThenAnEarlierSampleBothCount) {
  expect_each_counted_once({{kT + 300, kT + 300}, {kT + 100, kT + 301}});
}

TEST(RetryRule, ABatchNewestFirstCountsWhole) {
  expect_each_counted_once({{kT + 30, kT + 31}, {kT + 20, kT + 31}, {kT + 10, kT + 31}, {kT, kT + 31}});
}

TEST(RetryRule, LiveSamplesThenTheGapBeforeThemBackfilledOldestFirst) {
  std::vector<Arrival> arrivals;
  for (int i = 5; i < 10; ++i) arrivals.push_back({kT + 10 * i, kT + 10 * i});
  for (int i = 0; i < 5; ++i) arrivals.push_back({kT + 10 * i, kT + 100});
  expect_each_counted_once(arrivals);
}

TEST(RetryRule, TwoSendersOfOneNameWithClocksTwoSecondsApart) {
  std::vector<Arrival> arrivals;
  for (int i = 0; i < 10; ++i) {
    arrivals.push_back({kT + 10 * i, kT + 10 * i});
    arrivals.push_back({kT + 10 * i - 2, kT + 10 * i});
  }
  expect_each_counted_once(arrivals);
}

TEST(RetryRule, ASenderFortySecondsFastThenCorrected) {
  // Its clock says t+40.. while the appliance's says t..; then it is set right
  // (and its next samples fall on other seconds than the fast ones).
  expect_each_counted_once({{kT + 40, kT}, {kT + 50, kT + 10}, {kT + 60, kT + 20},
                            {kT + 45, kT + 45}, {kT + 55, kT + 55}, {kT + 65, kT + 65}});
}

TEST(RetryRule, UnstatedSamplesAlwaysCountAndMarkNothing) {
  TestSegment segment(8);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(segment->record("a", 5, 5, kT), Status::ok);
  EXPECT_EQ(segment->record("a", stated(5, kT), kT), Status::ok);  // the same second, but stated: new
  EXPECT_EQ(segment->record("a", stated(5, kT), kT), Status::repeat);
  EXPECT_EQ(counted(*segment, "a"), 4u);
}

// Older than the minute window, the hour's marks say which minutes were
// counted: one stated sample per minute and metric; older than the 24 hours,
// the day's say which hours: one per hour (docs/api.md, "Backfill and the retry rule").
TEST(RetryRule, OlderSamplesAreJudgedByTheMinuteThenByTheHour) {
  TestSegment segment(8, 30);
  const std::int64_t two_hours_ago = kNow - 2 * 3600 + 10;   // 08:25:10
  ASSERT_EQ(segment->record("a", stated(10, two_hours_ago), kNow), Status::ok);
  EXPECT_EQ(segment->record("a", stated(10, two_hours_ago), kNow), Status::repeat);
  EXPECT_EQ(segment->record("a", stated(10, two_hours_ago + 30), kNow), Status::repeat);  // same minute
  EXPECT_EQ(segment->record("a", stated(10, two_hours_ago + 60), kNow), Status::ok);      // the next one
  const std::int64_t days_ago = kNow - 5 * 86400 + 5;  // 10:25:05, five days back
  ASSERT_EQ(segment->record("a", stated(20, days_ago), kNow), Status::ok);
  EXPECT_EQ(segment->record("a", stated(20, days_ago + 1200), kNow), Status::repeat);  // same hour
  EXPECT_EQ(segment->record("a", stated(20, days_ago + 3600), kNow), Status::ok);      // the next one
  Snapshot s;
  ASSERT_EQ(segment->snapshot("a", kNow, s), Status::ok);
  EXPECT_EQ(s.last_24_hours.buckets[21].cpu.count, 2u);
  EXPECT_EQ(s.last_days.buckets[29].cpu.count, 2u);  // today: the two of two hours ago
  EXPECT_EQ(s.last_days.buckets[24].cpu.count, 2u);  // five days back
  EXPECT_EQ(s.last_days.buckets[24].cpu.mean, 20.0);
}

TEST(IndependentMetrics, ARamOnlySampleAtTheTimeOfACpuOnlyOneCounts) {
  TestSegment segment(8);
  SampleValue cpu_only = stated(50, kT);
  cpu_only.has_ram = false;
  SampleValue ram_only = stated_sample(0, 70, kT * 1000);
  ram_only.has_cpu = false;
  ASSERT_EQ(segment->record("a", cpu_only, kNow), Status::ok);
  ASSERT_EQ(segment->record("a", ram_only, kNow), Status::ok);
  EXPECT_EQ(segment->record("a", cpu_only, kNow), Status::repeat);
  EXPECT_EQ(segment->record("a", ram_only, kNow), Status::repeat);
  // Both metrics again: both were counted, so it is a repeat.
  EXPECT_EQ(segment->record("a", stated_sample(1, 1, kT * 1000), kNow), Status::repeat);
  Snapshot s;
  ASSERT_EQ(segment->snapshot("a", kNow, s), Status::ok);
  const BucketMean& minute = s.last_60_minutes.buckets[49];
  EXPECT_EQ(minute.cpu.count, 1u);
  EXPECT_EQ(minute.cpu.mean, 50.0);
  EXPECT_EQ(minute.ram.count, 1u);
  EXPECT_EQ(minute.ram.mean, 70.0);
  // A cpu-only sample leaves ram without data in its minute: count 0, not a mean of 0.
  SampleValue a_minute_later = cpu_only;
  a_minute_later.time += 60;
  ASSERT_EQ(segment->record("a", a_minute_later, kNow), Status::ok);
  ASSERT_EQ(segment->snapshot("a", kNow, s), Status::ok);
  EXPECT_EQ(s.last_60_minutes.buckets[50].cpu.count, 1u);
  EXPECT_EQ(s.last_60_minutes.buckets[50].ram.count, 0u);
}

TEST(IndependentMetrics, ASampleWithNeitherMetricIsRefused) {
  TestSegment segment(8);
  SampleValue neither = stated(50, kT);
  neither.has_cpu = neither.has_ram = false;
  EXPECT_EQ(segment->record("a", neither, kNow), Status::invalid_value);
  Snapshot s;
  EXPECT_EQ(segment->snapshot("a", kNow, s), Status::not_found);
}

TEST(IndependentMetrics, BothMetricsWhereOneWasCountedAddTheOther) {
  TestSegment segment(8);
  SampleValue cpu_only = stated(50, kT);
  cpu_only.has_ram = false;
  ASSERT_EQ(segment->record("a", cpu_only, kNow), Status::ok);
  ASSERT_EQ(segment->record("a", stated_sample(99, 30, kT * 1000), kNow), Status::ok);  // ram is new
  Snapshot s;
  ASSERT_EQ(segment->snapshot("a", kNow, s), Status::ok);
  EXPECT_EQ(s.last_60_minutes.buckets[49].cpu.count, 1u);
  EXPECT_EQ(s.last_60_minutes.buckets[49].cpu.mean, 50.0);  // not 99: cpu was a repeat
  EXPECT_EQ(s.last_60_minutes.buckets[49].ram.count, 1u);
}

TEST(Peaks, EveryBucketKeepsEachMetricsMaximum) {
  TestSegment segment(8, 30);
  ASSERT_EQ(segment->record("a", 10, 1, kNow - 1200), Status::ok);
  ASSERT_EQ(segment->record("a", 100, 2, kNow - 600), Status::ok);
  ASSERT_EQ(segment->record("a", 10, 12.04, kNow), Status::ok);
  Snapshot s;
  ASSERT_EQ(segment->snapshot("a", kNow, s), Status::ok);
  for (const BucketMean& b : {s.last_24_hours.buckets[23], s.last_days.buckets[29]}) {
    EXPECT_EQ(b.cpu.count, 3u);
    EXPECT_EQ(b.cpu.mean, 40.0);
    EXPECT_EQ(b.cpu.max, 100.0);
    EXPECT_EQ(b.ram.max, double{12.04f});  // a float: rounded to nearest
  }
  EXPECT_EQ(s.last_60_minutes.buckets[59].cpu.max, 10.0);
  EXPECT_EQ(s.last_60_minutes.buckets[49].cpu.max, 100.0);
}

TEST(Days, ASampleBackfilledTwentyDaysAgoShowsInTheDayWindowOnly) {
  TestSegment segment(8, 30);
  EXPECT_EQ(segment->days(), 30);
  const std::int64_t twenty_days_ago = kNow - 20 * 86400;
  ASSERT_EQ(segment->record("a", stated(42, twenty_days_ago), kNow), Status::ok);
  Snapshot s;
  ASSERT_EQ(segment->snapshot("a", kNow, s), Status::ok);
  EXPECT_EQ(s.last_days.length, 30);
  EXPECT_EQ(s.last_days.step, 86400);
  EXPECT_EQ(s.last_days.start, (kNow / 86400 - 29) * 86400);
  EXPECT_EQ(s.last_days.buckets[9].cpu.count, 1u);
  EXPECT_EQ(s.last_days.buckets[9].cpu.max, 42.0);
  int with_data = 0;
  for (const BucketMean& b : s.last_24_hours.buckets) with_data += b.cpu.count > 0;
  EXPECT_EQ(with_data, 0);
  // The issue-23 rule: a new server's last sample is its sample's own time.
  EXPECT_EQ(s.last_sample_unix, twenty_days_ago);
}

TEST(Days, TheOldestDayOfTheWindowIsTheLimitOrTheTwentyFourHoursWithoutDays) {
  TestSegment days(8, 30);
  const std::int64_t oldest = (kNow / 86400 - 29) * 86400;
  EXPECT_EQ(oldest_sample_time(kNow, 30), oldest);
  EXPECT_EQ(days->record("a", stated(1, oldest), kNow), Status::ok);
  EXPECT_EQ(days->record("a", stated(1, oldest - 1), kNow), Status::time_too_old);
  TestSegment none(8, 0);
  EXPECT_EQ(none->record("a", stated(1, kNow - 23 * 3600), kNow), Status::ok);
  EXPECT_EQ(none->record("a", stated(1, kNow - 25 * 3600), kNow), Status::time_too_old);
  Snapshot s;
  ASSERT_EQ(none->snapshot("a", kNow, s), Status::ok);
  EXPECT_EQ(s.last_days.length, 0);
}

TEST(Days, AServerLivesAsLongAsItsLongestWindowAndDeleteEmptiesTheDays) {
  TestSegment segment(2, 30);
  ASSERT_EQ(segment->record("a", 7, 7, kNow), Status::ok);
  Snapshot s;
  EXPECT_EQ(segment->snapshot("a", kNow + 25 * 3600, s), Status::ok);  // silent 25 hours: still there
  EXPECT_EQ(segment->snapshot("a", kNow + 30 * 86400 - 1, s), Status::ok);
  EXPECT_EQ(segment->snapshot("a", kNow + 30 * 86400, s), Status::not_found);
  ASSERT_EQ(segment->forget("a", kNow + 60), Status::ok);
  ASSERT_EQ(segment->record("a", 1, 1, kNow + 60), Status::ok);
  ASSERT_EQ(segment->snapshot("a", kNow + 60, s), Status::ok);
  EXPECT_EQ(s.last_days.buckets[29].cpu.count, 1u);  // the deleted server's sample is gone
}

TEST(Days, AClockThatRanDaysAheadLeavesNoFutureDay) {
  TestSegment segment(2, 30);
  ASSERT_EQ(segment->record("a", 9, 9, kNow + 2 * 86400), Status::ok);  // a clock two days ahead
  ASSERT_EQ(segment->record("a", 1, 1, kNow), Status::ok);              // set right
  SlotCopy copy;
  Slot* slot = nullptr;
  segment->for_each_server([&](const ServerEntry& e) { slot = e.slot; });
  ASSERT_EQ(segment->copy_slot(*slot, copy), Status::ok);
  std::uint32_t days_counted = 0;
  for (int i = 0; i < copy.day_count; ++i) {
    EXPECT_LE(day_of_key(copy.days[i].key), kNow / 86400);
    days_counted += copy.days[i].count[kCpu];
  }
  EXPECT_EQ(days_counted, 1u);
  EXPECT_EQ(copy.last_sample_unix, kNow);
}

TEST(MinuteLimit, The65536thSampleOfAMetricInAMinuteIsRefused) {
  TestSegment segment(2);
  for (std::uint32_t i = 0; i < kMaxMinuteCount; ++i) ASSERT_EQ(segment->record("a", 1, 1, kNow), Status::ok);
  EXPECT_EQ(segment->record("a", 1, 1, kNow), Status::bucket_full);
  EXPECT_EQ(segment->record("a", 1, 1, kNow + 60), Status::ok);  // the next minute
  Snapshot s;
  ASSERT_EQ(segment->snapshot("a", kNow + 60, s), Status::ok);
  EXPECT_EQ(s.last_60_minutes.buckets[58].cpu.count, kMaxMinuteCount);
  EXPECT_EQ(s.last_24_hours.buckets[23].cpu.count, kMaxMinuteCount + 1);
}

}  // namespace
}  // namespace servertrack::shm::test
