// The invariants of one server's data (its two bucket rings and last sample
// time), shared by `shmtool check` (on the live segment) and the snapshot
// reader (on a dump file), so both accept exactly the same data.
//
// Pure function; any thread; allocates only for the problem texts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shm/segment.h"

namespace servertrack::cli {

// One sentence per broken invariant, empty when the data is sound:
// - a bucket that was ever written sits at ring position index % ring size;
// - no bucket index and no last sample after `now` + shm::kClockSlack (the
//   future: a sample may state a time up to kClockSlack ahead, shm/server_data.h);
// - an hour's retry mark (hour_newest) within the hour's milliseconds;
// - sums finite and >= 0, and zero when the count is zero;
// - no minute with samples after the minute of the last sample;
// - an hour holds at least the samples of its minutes still in the ring.
std::vector<std::string> data_problems(const shm::SlotCopy& data, std::int64_t now);

}  // namespace servertrack::cli
