// The JSON of one server's snapshot, as GET /server/<name> answers it and
// `shmtool show --json` prints it (docs/design.md, "The HTTP contract"):
//   {"last_60_minutes": {"start": S, "step": 60, "cpu": [...], "ram": [...]},
//    "last_24_hours": {"start": S, "step": 3600, "cpu": [...], "ram": [...]},
//    "last_30_days": {"start": S, "step": 86400, "cpu": [...], "ram": [...]}}
// The days window is named after its length (the segment's days,
// last_<N>_days) and left out when the segment keeps none. Arrays run oldest
// to newest; a metric with no sample in a bucket is null there, whatever the
// other metric has. Means are printed as the shortest text that reads back as
// the same double; a mean that is not finite (the sums overflowed) is printed
// as null, never nan or inf.
//
// Details::peaks adds to each window "cpu_max" and "ram_max" (each bucket's
// largest sample of the metric, null where the mean is null), as
// GET /server/<name>?peaks=1 answers. Details::counts adds "cpu_count" and
// "ram_count" (samples of the metric per bucket, 0 where its mean is null)
// and "count", the larger of the two (what a bucket's samples were when every
// sample carried both metrics; kept for clients of earlier versions), as
// ?counts=1 answers.
//
// Any thread; appends to `out` (reuse one buffer to avoid allocating); no
// other allocation. No trailing newline.
#pragma once

#include <fmt/format.h>

#include "shm/window.h"

namespace servertrack::common {

// What each window gets besides its means.
struct Details {
  bool counts = false;
  bool peaks = false;
};

void append_snapshot_json(const shm::Snapshot& snapshot, fmt::memory_buffer& out, Details details = {});

// The value of "last_60_minutes" alone: {"start": S, "step": 60, "cpu": [...],
// "ram": [...]}, as GET /fleet gives it for each server.
void append_minutes_json(const shm::Window<shm::kMinuteBuckets>& window, fmt::memory_buffer& out);

}  // namespace servertrack::common
