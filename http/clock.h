// The workers' one clock: UTC wall-clock seconds since the Unix epoch.
//
// Every "now" a worker passes to the segment comes from here, so end-to-end
// tests can move a worker's time with libfaketime (docs/design.md, "Time and buckets").
// Any thread; one clock_gettime call (vDSO), no allocation.
#pragma once

#include <cstdint>

namespace servertrack::http {

std::int64_t wall_clock_unix_seconds() noexcept;

}  // namespace servertrack::http
