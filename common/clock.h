// The one clock of every ServerTrack program: UTC wall-clock time since the
// Unix epoch.
//
// Every "now" a worker or shmtool passes to the segment, and every time they
// report, comes from here, so end-to-end tests can move a worker's time with
// libfaketime (docs/design.md, "Time and buckets").
// Any thread; one clock_gettime call (vDSO), no allocation.
#pragma once

#include <cstdint>

namespace servertrack::common {

// Whole seconds (rounded down): the time samples are stamped with.
std::int64_t wall_clock_unix_seconds() noexcept;

// Seconds with their fraction, e.g. for process_start_time_seconds.
double wall_clock_seconds() noexcept;

}  // namespace servertrack::common
