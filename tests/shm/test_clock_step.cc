// The clock policy (shm/slot.h): a clock that ran ahead and was set back
// never makes record() drop an acknowledged sample, and what it wrote never
// shows up as a current period later.
#include <gtest/gtest.h>
#include <signal.h>

#include "shm/slot.h"
#include "tests/shm/support.h"

namespace servertrack::shm::test {
namespace {

using std::chrono::seconds;

constexpr std::int64_t kStart = 1735689600 + 3600 * 10;  // a whole hour
constexpr std::int64_t kAhead = 3 * 3600;

// Samples of "host" every 10 s from `from` for `seconds_long`, the writer's
// clock reading `skew` more than the true time; returns how many were acknowledged.
int record_every_10s(Segment& segment, std::int64_t from, std::int64_t seconds_long, std::int64_t skew) {
  int acknowledged = 0;
  for (std::int64_t t = from; t < from + seconds_long; t += 10) {
    acknowledged += segment.record("host", 1, 2, t + skew) == Status::ok;
  }
  return acknowledged;
}

TEST(ClockStepTest, SamplesAfterTheClockIsSetBackAreCountedInTheirOwnMinuteAndHour) {
  TestSegment segment(16);
  // True time kStart .. +30 min, the clock 3 h ahead; then corrected.
  EXPECT_EQ(record_every_10s(*segment, kStart, 1800, kAhead), 180);
  const std::int64_t corrected = kStart + 1800;
  EXPECT_EQ(record_every_10s(*segment, corrected, 1800, 0), 180);

  const std::int64_t now = corrected + 1800 - 1;
  Snapshot s;
  ASSERT_EQ(segment->snapshot("host", now, s), Status::ok);
  std::uint32_t in_minutes = 0;
  for (int i = 30; i < 60; ++i) {  // the 30 minutes after the correction
    EXPECT_EQ(s.last_60_minutes.buckets[i].cpu.count, 6u) << "minute " << i;
    in_minutes += s.last_60_minutes.buckets[i].cpu.count;
  }
  EXPECT_EQ(in_minutes, 180u);
  EXPECT_EQ(s.last_24_hours.buckets[23].cpu.count, 180u) << "the hour of the correction";
  EXPECT_LE(s.last_sample_unix, now);
  EXPECT_EQ(segment.counters().samples_recorded.load(), 360u);
}

TEST(ClockStepTest, WhatTheWrongClockWroteNeverShowsAsACurrentPeriod) {
  TestSegment segment(16);
  ASSERT_EQ(segment->record("host", 50, 50, kStart + kAhead), Status::ok);  // clock ahead
  ASSERT_EQ(segment->record("host", 1, 1, kStart), Status::ok);             // corrected
  // When the true time reaches the period the wrong clock wrote, it is empty.
  Snapshot s;
  ASSERT_EQ(segment->snapshot("host", kStart + kAhead, s), Status::ok);
  EXPECT_EQ(s.last_60_minutes.buckets[59].cpu.count, 0u);
  EXPECT_EQ(s.last_24_hours.buckets[23].cpu.count, 0u);
  EXPECT_EQ(s.last_24_hours.buckets[20].cpu.count, 1u);  // the corrected sample, 3 h earlier
  EXPECT_EQ(s.last_sample_unix, kStart);
}

TEST(ClockStepTest, WritersWhoseClocksDifferByLessThanTheSlackKeepEachOthersSamples) {
  TestSegment segment(16);
  // Two writers racing across a minute boundary, one reading the clock late.
  ASSERT_EQ(segment->record("host", 1, 1, kStart + 60), Status::ok);
  ASSERT_EQ(segment->record("host", 1, 1, kStart + 60 - kClockSlack), Status::ok);
  Snapshot s;
  ASSERT_EQ(segment->snapshot("host", kStart + 60, s), Status::ok);
  EXPECT_EQ(s.last_60_minutes.buckets[59].cpu.count, 1u);
  EXPECT_EQ(s.last_60_minutes.buckets[58].cpu.count, 1u);
  EXPECT_EQ(s.last_sample_unix, kStart + 60);
}

TEST(ClockStepTest, ASampleOlderThanTheMinuteWindowIsCountedInItsHourOnly) {
  // The contract of write_sample() for a sample time before `now`.
  TestSegment segment(16);
  ASSERT_EQ(segment->record("host", 1, 1, kStart + 7200), Status::ok);
  Slot* slot = nullptr;
  segment->for_each_server([&](const ServerEntry& e) { slot = e.slot; });
  ASSERT_EQ(lock_slot(*slot, 0, segment.counters()), LockResult::acquired);
  write_sample(*slot, 0, {3, 3, kStart + 600, false, 0, true, true}, kStart + 7200);
  unlock_slot(*slot);
  Snapshot s;
  ASSERT_EQ(segment->snapshot("host", kStart + 7200, s), Status::ok);
  EXPECT_EQ(s.last_60_minutes.buckets[59].cpu.count, 1u);
  EXPECT_EQ(s.last_24_hours.buckets[21].cpu.count, 1u);
  EXPECT_EQ(s.last_24_hours.buckets[21].cpu.mean, 3);
  EXPECT_EQ(s.last_sample_unix, kStart + 7200);
}

ResultPipe* clearing_signal = nullptr;
void park_while_clearing() {
  const char byte = 1;
  clearing_signal->send(&byte, 1);
  for (;;) ::pause();
}

TEST(ClockStepTest, AWriterKilledWhileClearingTheFutureIsFinishedByTheNext) {
  TestSegment segment(16);
  for (int minute = 0; minute < 5; ++minute) {
    ASSERT_EQ(segment->record("host", 9, 9, kStart + kAhead + 60 * minute), Status::ok);
  }
  ResultPipe parked;
  const pid_t child = run_child([&] {
    clearing_signal = &parked;
    shm::testing::set_clearing_hook(&park_while_clearing);
    segment->record("host", 1, 1, kStart);
    return 1;
  });
  char byte;
  ASSERT_TRUE(parked.receive(&byte, 1, seconds(10)));
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  EXPECT_EQ(wait_child(child, seconds(10)), 128 + SIGKILL);

  ASSERT_EQ(segment->record("host", 1, 1, kStart), Status::ok);
  for (const std::int64_t at : {kStart, kStart + kAhead + 240}) {
    Snapshot s;
    ASSERT_EQ(segment->snapshot("host", at, s), Status::ok);
    std::uint32_t minutes = 0;
    for (const BucketMean& b : s.last_60_minutes.buckets) minutes += b.cpu.count;
    EXPECT_EQ(minutes, at == kStart ? 1u : 0u) << "at " << at;
  }
  EXPECT_EQ(segment.counters().lock_takeovers.load(), 1u);
}

}  // namespace
}  // namespace servertrack::shm::test
