// Public: used by shmtool (check, dump, restore's reader) and its fuzz target.
// The invariants of one server's data (its three bucket rings, their retry
// marks and last sample time): the segment's own rules, so that a live slot
// and a dump file are judged alike. Pure function; any thread; allocates only
// for the list it returns.
#pragma once

#include <cstdint>
#include <vector>

#include "shm/server_data.h"

namespace servertrack::shm {

enum class Ring : std::uint8_t { minutes, hours, days };

// One broken invariant. `position` is the ring position it concerns,
// `period` the period that bucket holds, `metric` the metric (kCpu, kRam;
// -1 for none), `value` and `detail` what the rule found and compared
// against (see each kind).
struct DataProblem {
  enum class Kind : std::uint8_t {
    misplaced,                 // a written bucket not at ring position period % ring size
    from_future,               // a bucket whose period starts after now + kClockSlack
    unsound_sum,               // a sum negative or not finite; value: the sum
    sums_without_samples,      // count 0 with a non-zero sum or peak; value: the sum
    unsound_peak,              // a peak negative or not finite; value: the peak
    peak_below_mean,           // a peak below the bucket's mean; value: the peak
    marks_beyond_period,       // a retry mark on a second or minute past 59; detail: the marks
    more_marks_than_samples,   // more retry marks than samples; detail: the marks' count
    last_sample_in_future,     // last_sample_unix after now + kClockSlack
    minute_after_last_sample,  // a minute with samples after the last sample's minute
    hour_short_of_minutes,     // an hour counting fewer samples than its minutes still
                               // in the ring; value: the hour's count, detail: the minutes'
    day_short_of_hours,        // a day counting fewer samples than its hours still in
                               // the ring; value: the day's count, detail: the hours'
  };
  Kind kind;
  Ring ring;
  std::uint32_t position;
  std::uint32_t period;
  int metric;
  double value;
  std::uint64_t detail;
};

// Every broken invariant of `data` judged at `now`, in a fixed order (the
// minute, hour and day rings, the last sample time, minutes after it, hours
// against their minutes, days against their hours); empty when the data is
// sound.
std::vector<DataProblem> data_problems(const SlotCopy& data, std::int64_t now);

}  // namespace servertrack::shm
