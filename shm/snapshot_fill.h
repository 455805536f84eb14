// Internal to shm/: only shm/*.cc include it. make_snapshot() (shm/window.h)
// writing into a Snapshot the caller already has, so that Segment::snapshot()
// neither zeroes nor copies the ~21 KB of a Snapshot (its day window has room
// for kMaxDays) on every call: it writes the buckets of each window's
// `length` and its start, step and length, and leaves the rest of out's
// buckets as they were (not part of the window). Pure; any thread.
#pragma once

#include <cstdint>

#include "shm/window.h"

namespace servertrack::shm {

void fill_snapshot(const SlotCopy& copy, std::int64_t now, Snapshot& out) noexcept;

}  // namespace servertrack::shm
