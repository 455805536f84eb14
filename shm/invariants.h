// Public: used by shmtool (check, dump, restore's reader) and its fuzz target.
// The invariants of one server's data (its two bucket rings, retry marks and
// last sample time): the segment's own rules, so that a live slot and a dump
// file are judged alike. Pure function; any thread; allocates only for the
// list it returns.
#pragma once

#include <cstdint>
#include <vector>

#include "shm/server_data.h"

namespace servertrack::shm {

enum class Ring : std::uint8_t { minutes, hours };

// One broken invariant. `position` is the ring position (or hour bucket) it
// concerns, `bucket` that bucket's value (zero for last_sample_in_future),
// `detail` what the rule compared against (see each kind).
struct DataProblem {
  enum class Kind : std::uint8_t {
    misplaced,                 // a written bucket not at ring position index % ring size
    from_future,               // a bucket whose period starts after now + kClockSlack
    unsound_sum,               // a sum negative or not finite
    sums_without_samples,      // count 0 with a non-zero sum
    last_sample_in_future,     // last_sample_unix after now + kClockSlack
    minute_after_last_sample,  // a minute with samples after the last sample's minute
    retry_mark_beyond_hour,    // hour_newest beyond the hour's milliseconds; detail: the mark
    hour_short_of_minutes,     // an hour counting fewer samples than its minutes still
                               // in the ring; detail: the minutes' count
  };
  Kind kind;
  Ring ring;
  std::uint32_t position;
  BucketValue bucket;
  std::uint64_t detail;
};

// 1 + the last millisecond of an hour: the largest valid retry mark.
inline constexpr std::uint32_t kHourMarks = 3600 * 1000;

// Every broken invariant of `data` judged at `now`, in a fixed order (the
// minute ring, the hour ring, the last sample time, minutes after it, retry
// marks, hours against their minutes); empty when the data is sound.
std::vector<DataProblem> data_problems(const SlotCopy& data, std::int64_t now);

}  // namespace servertrack::shm
