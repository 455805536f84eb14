// The processes attached to a segment (its registry: Segment::
// registered_processes()) as `shmtool remove` and `restore` name them.
//
// Any process, a read-only attach is enough. Costs one liveness probe per
// registered entry.
#pragma once

#include <string>
#include <vector>

#include "shm/segment.h"

namespace servertrack::cli {

// "2 live processes (ingest pid 10, query pid 11)"; empty when none.
std::string describe_live(const shm::Segment& segment);

}  // namespace servertrack::cli
