// Bucket arithmetic through record() and snapshot() with explicit times:
// means, "no data", ordering, rollover, ring reuse, expiry, hour means.
#include <gtest/gtest.h>

#include "tests/shm/support.h"

namespace servertrack::shm::test {
namespace {

constexpr std::int64_t kMidnight = 1735689600;   // 2025-01-01T00:00:00Z
constexpr std::int64_t kHour = kMidnight + 3600 * 10;  // 10:00Z, hour-aligned
constexpr std::int64_t kMinute = kHour + 60 * 25;      // 10:25Z, minute-aligned

class WindowTest : public ::testing::Test {
 protected:
  void record(std::int64_t now, double cpu, double ram) {
    ASSERT_EQ(segment_->record("web1", cpu, ram, now), Status::ok);
  }
  Snapshot snapshot(std::int64_t now) {
    Snapshot out;
    EXPECT_EQ(segment_->snapshot("web1", now, out), Status::ok);
    return out;
  }
  Snapshot expect_rollover_at(std::int64_t at);

  TestSegment segment_{16};
};

template <int N>
int buckets_with_data(const Window<N>& window) {
  int n = 0;
  for (const BucketMean& b : window.buckets) n += b.cpu.count != 0 || b.ram.count != 0;
  return n;
}

void expect_bucket(const BucketMean& b, std::uint32_t count, double cpu, double ram) {
  EXPECT_EQ(b.cpu.count, count);
  EXPECT_EQ(b.ram.count, count);
  EXPECT_DOUBLE_EQ(b.cpu.mean, cpu);
  EXPECT_DOUBLE_EQ(b.ram.mean, ram);
}

TEST_F(WindowTest, MeanOfTheSamplesOfOneMinuteInTheCurrentBucket) {
  record(kMinute + 5, 10, 20);
  record(kMinute + 30, 20, 40);
  record(kMinute + 59, 30, 60);
  const Snapshot s = snapshot(kMinute + 59);
  EXPECT_EQ(s.last_60_minutes.step, 60);
  EXPECT_EQ(s.last_60_minutes.start, kMinute - 59 * 60);
  expect_bucket(s.last_60_minutes.buckets[59], 3, 20, 40);
  EXPECT_EQ(buckets_with_data(s.last_60_minutes), 1);
  EXPECT_EQ(s.last_24_hours.step, 3600);
  EXPECT_EQ(s.last_24_hours.start, kHour - 23 * 3600);
  expect_bucket(s.last_24_hours.buckets[23], 3, 20, 40);
  EXPECT_EQ(buckets_with_data(s.last_24_hours), 1);
  EXPECT_EQ(s.last_sample_unix, kMinute + 59);
}

TEST_F(WindowTest, AZeroMeanIsDataAndAnEmptyBucketIsNot) {
  record(kMinute, 0, 0);
  const Snapshot s = snapshot(kMinute + 60);
  expect_bucket(s.last_60_minutes.buckets[58], 1, 0, 0);
  EXPECT_EQ(s.last_60_minutes.buckets[59].cpu.count, 0u);
  EXPECT_EQ(s.last_60_minutes.buckets[57].cpu.count, 0u);
}

TEST_F(WindowTest, BucketsRunOldestToNewestWithTheCurrentMinuteLast) {
  record(kMinute - 120, 1, 2);
  record(kMinute - 60, 3, 4);
  record(kMinute, 5, 6);
  const Snapshot now = snapshot(kMinute + 10);
  expect_bucket(now.last_60_minutes.buckets[57], 1, 1, 2);
  expect_bucket(now.last_60_minutes.buckets[58], 1, 3, 4);
  expect_bucket(now.last_60_minutes.buckets[59], 1, 5, 6);
  const Snapshot next_minute = snapshot(kMinute + 60);
  EXPECT_EQ(next_minute.last_60_minutes.start, kMinute + 60 - 59 * 60);
  expect_bucket(next_minute.last_60_minutes.buckets[58], 1, 5, 6);
  EXPECT_EQ(next_minute.last_60_minutes.buckets[59].cpu.count, 0u);
}

// A sample 10 at `at - 1` and one of 30 at `at` land in consecutive minute
// buckets, and in consecutive hour buckets exactly when `at` starts an hour.
Snapshot WindowTest::expect_rollover_at(std::int64_t at) {
  record(at - 1, 10, 10);
  record(at, 30, 30);
  const Snapshot s = snapshot(at);
  expect_bucket(s.last_60_minutes.buckets[58], 1, 10, 10);
  expect_bucket(s.last_60_minutes.buckets[59], 1, 30, 30);
  if (at % 3600 == 0) {
    expect_bucket(s.last_24_hours.buckets[22], 1, 10, 10);
    expect_bucket(s.last_24_hours.buckets[23], 1, 30, 30);
  } else {
    expect_bucket(s.last_24_hours.buckets[23], 2, 20, 20);
  }
  return s;
}

TEST_F(WindowTest, RollsOverAtTheMinuteBoundary) { expect_rollover_at(kMinute + 60); }

TEST_F(WindowTest, RollsOverAtTheHourBoundary) { expect_rollover_at(kHour); }

TEST_F(WindowTest, RollsOverAtMidnightUtc) {
  const Snapshot s = expect_rollover_at(kMidnight);
  EXPECT_EQ(s.last_24_hours.start, kMidnight - 23 * 3600);
  EXPECT_EQ(s.last_60_minutes.start, kMidnight - 59 * 60);
  const Snapshot end_of_day = snapshot(kMidnight + 24 * 3600 - 1);
  EXPECT_EQ(end_of_day.last_24_hours.start, kMidnight);
  expect_bucket(end_of_day.last_24_hours.buckets[0], 1, 30, 30);
  EXPECT_EQ(buckets_with_data(end_of_day.last_24_hours), 1);
}

TEST_F(WindowTest, AReusedMinutePositionIsResetBeforeUse) {
  record(kMinute, 10, 10);
  record(kMinute + 3600, 50, 50);  // same ring position, one hour later
  const Snapshot s = snapshot(kMinute + 3600);
  expect_bucket(s.last_60_minutes.buckets[59], 1, 50, 50);
  EXPECT_EQ(buckets_with_data(s.last_60_minutes), 1);
  expect_bucket(s.last_24_hours.buckets[22], 1, 10, 10);
  expect_bucket(s.last_24_hours.buckets[23], 1, 50, 50);
}

TEST_F(WindowTest, AReusedHourPositionIsResetBeforeUse) {
  record(kHour, 10, 10);
  record(kHour + 24 * 3600, 50, 50);
  const Snapshot s = snapshot(kHour + 24 * 3600);
  expect_bucket(s.last_24_hours.buckets[23], 1, 50, 50);
  EXPECT_EQ(buckets_with_data(s.last_24_hours), 1);
}

TEST_F(WindowTest, AMinuteExpiresExactlyAfterSixtyMinutes) {
  record(kMinute, 10, 10);
  const Snapshot last_moment = snapshot(kMinute + 3600 - 1);
  EXPECT_EQ(last_moment.last_60_minutes.start, kMinute);
  expect_bucket(last_moment.last_60_minutes.buckets[0], 1, 10, 10);
  const Snapshot expired = snapshot(kMinute + 3600);
  EXPECT_EQ(buckets_with_data(expired.last_60_minutes), 0);
}

TEST_F(WindowTest, AnHourExpiresExactlyAfterTwentyFourHours) {
  record(kHour, 10, 10);
  const Snapshot last_moment = snapshot(kHour + 24 * 3600 - 1);
  EXPECT_EQ(last_moment.last_24_hours.start, kHour);
  expect_bucket(last_moment.last_24_hours.buckets[0], 1, 10, 10);
  // The server expires with its last hour (shm/slot.h, expired()).
  Snapshot gone;
  EXPECT_EQ(segment_->snapshot("web1", kHour + 24 * 3600, gone), Status::not_found);
}

TEST_F(WindowTest, AnHourMeanIsOverAllItsSamplesNotAMeanOfMinutes) {
  for (int i = 0; i < 3; ++i) record(kMinute + i, 10, 100);
  record(kMinute + 60, 50, 20);
  const Snapshot s = snapshot(kMinute + 60);
  expect_bucket(s.last_60_minutes.buckets[58], 3, 10, 100);
  expect_bucket(s.last_60_minutes.buckets[59], 1, 50, 20);
  expect_bucket(s.last_24_hours.buckets[23], 4, 20, 80);  // a mean of minutes: 30, 60
}

// A writer whose clock reads earlier than what its slot holds: the clock was
// set back, and what it wrote ahead is cleared (shm/slot.h, clock policy).
TEST_F(WindowTest, AClockSetBackAnHourCountsTheSampleAndClearsWhatItWroteAhead) {
  record(kMinute + 3600, 50, 50);
  record(kMinute, 10, 10);  // its minute position holds the minute the clock wrote ahead
  Snapshot s = snapshot(kMinute);
  expect_bucket(s.last_60_minutes.buckets[59], 1, 10, 10);
  expect_bucket(s.last_24_hours.buckets[23], 1, 10, 10);
  EXPECT_EQ(s.last_sample_unix, kMinute);
  s = snapshot(kMinute + 3600);
  EXPECT_EQ(buckets_with_data(s.last_60_minutes), 0);
  EXPECT_EQ(buckets_with_data(s.last_24_hours), 1);
}

TEST_F(WindowTest, AClockSetBackADayCountsTheSampleAndClearsWhatItWroteAhead) {
  record(kHour + 24 * 3600, 50, 50);
  record(kHour, 10, 10);
  Snapshot s = snapshot(kHour);
  expect_bucket(s.last_24_hours.buckets[23], 1, 10, 10);
  // The last second before the server expires: only the sample of kHour, in
  // the oldest hour; the 50 written a day ahead is gone.
  s = snapshot(kHour + 24 * 3600 - 1);
  EXPECT_EQ(buckets_with_data(s.last_24_hours), 1);
  expect_bucket(s.last_24_hours.buckets[0], 1, 10, 10);
  Snapshot expired;
  EXPECT_EQ(segment_->snapshot("web1", kHour + 24 * 3600, expired), Status::not_found);
}

}  // namespace
}  // namespace servertrack::shm::test
