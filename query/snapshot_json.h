// The JSON of one server's snapshot, as GET /server/<name> answers it and
// `shmtool show --json` prints it (docs/design.md, "The HTTP contract"):
//   {"last_60_minutes": {"start": S, "step": 60, "cpu": [...], "ram": [...]},
//    "last_24_hours": {"start": S, "step": 3600, "cpu": [...], "ram": [...]}}
// Arrays run oldest to newest; a bucket without samples is null. Means are
// printed as the shortest text that reads back as the same double; a mean that
// is not finite (the sums overflowed) is printed as null, never nan or inf.
//
// With Counts::include each window also gets "count": the samples per bucket
// (0 where the mean is null), as GET /server/<name>?counts=1 answers.
//
// Any thread; appends to `out` (reuse one buffer to avoid allocating); no
// other allocation. No trailing newline.
#pragma once

#include <fmt/format.h>

#include "shm/window.h"

namespace servertrack::query {

enum class Counts { omit, include };

void append_snapshot_json(const shm::Snapshot& snapshot, fmt::memory_buffer& out,
                          Counts counts = Counts::omit);

}  // namespace servertrack::query
