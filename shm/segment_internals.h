// Internal to shm/: only shm/*.cc, tests/shm and the segment's
// micro-benchmark include it. The raw words of a Segment (its header, slots,
// fingerprints and table view), which the public shm/segment.h does not
// expose: outside shm/ the segment is read and judged only through its
// public calls (shm/slot_check.h for what `shmtool check` reports).
// Any thread; each call is a pointer computation.
#pragma once

#include <cstdint>

#include "shm/segment.h"
#include "shm/table.h"

namespace servertrack::shm {

struct SegmentInternals {
  static Header& header(const Segment& segment) noexcept { return segment.header(); }
  static Slot& slot(const Segment& segment, std::uint64_t index) noexcept { return segment.slot(index); }
  static Fingerprint& fingerprint(const Segment& segment, std::uint64_t index) noexcept {
    return segment.fingerprint(index);
  }
  static Table table(const Segment& segment) noexcept { return segment.table(); }
};

}  // namespace servertrack::shm
