// What to do about a segment error or a slot status, for the person who reads
// it. The segment (shm/) reports what is wrong (SegmentError's kind and facts,
// describe(Status)); shmtool and the workers print those words followed by
// the remedy from here, so both give the same advice (docs/design.md,
// "Failure behaviour"). The supervisor adds its own, with its command lines
// (cli/servertrack/segment.py).
// Pure functions; any thread; cold paths only (allocates the text).
#pragma once

#include <string>

#include "shm/segment.h"

namespace servertrack::common {

// e.what() and, for the kinds a person can fix, how: create an absent
// segment, recreate an incompatible one (or run with its capacity), write
// from the creator's pid namespace, make room in /dev/shm.
std::string with_remedy(const shm::SegmentError& error);

// shm::describe(status) and, for a busy slot, what to do.
std::string with_remedy(shm::Status status);

}  // namespace servertrack::common
