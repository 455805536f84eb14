// Public: used by the workers and shmtool (through shm/segment.h). A server's
// data as the segment's users handle it: a sample going in, the time rules it
// is judged by, and the copies of a slot coming out. Plain values and pure
// constexpr functions, no protocol: how a slot is locked, written and read
// consistently is internal to shm/ (shm/slot.h).
#pragma once

#include <cstdint>
#include <string_view>

#include "shm/layout.h"

namespace servertrack::shm {

// How far ahead of the writer's clock a period may start before it counts as
// written by a wrong clock. Writers on one host share one clock; this covers
// a writer that read the clock and was descheduled before taking the lock.
// It is also how far after the writer's clock a sample's stated time may be
// (the clocks of senders and appliance differ a little): record() refuses a
// later one, so no stated sample is ever cleared as a wrong clock's.
inline constexpr std::int64_t kClockSlack = 60;

// One sample: its values and when it was taken.
struct SampleValue {
  double cpu = 0;
  double ram = 0;
  std::int64_t time = 0;   // unix seconds: picks its minute and hour
  bool stated = false;     // the sender gave the time (a backfilled or resent
                           // sample, subject to the retry rule of shm/slot.h); otherwise
                           // it is the arrival time
  std::uint32_t millis = 0;  // stated: milliseconds after `time`, 0..999
  bool has_cpu = true;       // which metrics the sample carries: at least one
  bool has_ram = true;       // (record() answers invalid_value otherwise); a
                             // metric it lacks is neither counted nor marked
};

// A sample the sender says was taken at `unix_ms` (not negative).
constexpr SampleValue stated_sample(double cpu, double ram, std::int64_t unix_ms) noexcept {
  return {cpu, ram, unix_ms / 1000, true, static_cast<std::uint32_t>(unix_ms % 1000), true, true};
}

// The oldest unix second a sample may be counted at when the writer's clock
// reads `now` and the segment keeps `days` days: the start of the oldest hour
// of the 24-hour window that ends in the hour of now + kClockSlack, or, when
// earlier, the start of the oldest day of the `days`-day window ending in the
// day of now + kClockSlack (so that no ring position may hold a newer period
// that the sample's would overwrite).
constexpr std::int64_t oldest_sample_time(std::int64_t now, int days) noexcept {
  const std::int64_t hours = ((now + kClockSlack) / kSecondsPerHour - (kHourBuckets - 1)) * kSecondsPerHour;
  const std::int64_t in_days = ((now + kClockSlack) / kSecondsPerDay - (days - 1)) * kSecondsPerDay;
  return days > 0 && in_days < hours ? in_days : hours;
}

// How long a server of a segment keeping `days` days lives without a sample:
// the longest window it has data in, 24 hours or the days.
constexpr std::int64_t expiry_seconds(int days) noexcept {
  return days > 1 ? std::int64_t{days} * kSecondsPerDay : kExpirySeconds;
}

// True when a server whose newest sample is `last_sample_unix` has had none
// in the expiry_seconds(days) before `now`: it reads as absent and its slot
// may be reused for a new name.
constexpr bool expired(std::int64_t last_sample_unix, std::int64_t now, int days) noexcept {
  return last_sample_unix <= now - expiry_seconds(days);
}

// A copy of a slot: who it holds and its data (Segment::copy_slot()). Only
// the first `day_count` days are the slot's (the segment's days).
struct SlotCopy {
  MinuteValue minutes[kMinuteBuckets];
  HourValue hours[kHourBuckets];
  DayValue days[kMaxDays];
  int day_count = 0;
  std::int64_t last_sample_unix = 0;
  std::uint32_t name_length = 0;  // 0 when the slot holds no published server
  char name[kNameBytes];
  std::string_view name_view() const noexcept { return {name, name_length}; }
};

}  // namespace servertrack::shm
