// Public: used by `shmtool check` (cli/) and tests/shm. What the segment finds
// wrong with itself, as facts: shm/ reads its own words (state, sequence and
// lock words, the stored name and its hash, the fingerprint, the process
// registry) and judges them by its own rules; the caller only words the
// findings (shmtool: cli/check.cc). A server's data is judged by
// shm/invariants.h, alike on a live slot and in a dump file.
//
// Any process; a read-only attach is enough. check_segment() reads every slot
// once (O(capacity)), copies each ready slot's data into one reused SlotCopy,
// makes one liveness probe per lock word held and per registry entry, and
// reads /proc/<tid>/status for a lock held by a live thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "shm/invariants.h"
#include "shm/segment.h"

namespace servertrack::shm {

// One thing wrong with a slot's own words (its data: DataProblem).
struct SlotFinding {
  enum class Kind : std::uint8_t {
    unknown_state,        // value: the state word, neither empty (0), ready (1) nor retired (2)
    dead_lock_holder,     // holder: the lock word names a dead thread, or an id since recycled
                          // (the next writer takes it over)
    foreign_lock_holder,  // holder, process, command: a live thread of a process not attached to
                          // the segment (writes to the server wait for it, then answer busy)
    mid_write,            // value: the sequence word, odd with no live writer: a writer died
                          // mid-write (the next write repairs it from the journal)
    name_length,          // value: the stored name length, outside 1..kMaxNameLength
    name_rule,            // the stored name breaks the name rule (shm/name.h)
    name_hash,            // value: the stored name hash; expected: the name's
    fingerprint,          // fingerprint: what is stored against the table's rule (a fault)
  };
  Kind kind;
  std::uint64_t value = 0;
  std::uint64_t expected = 0;
  LockHolder holder{};
  std::uint32_t process = 0;  // foreign_lock_holder: the holder's process (thread group)
  std::string command = {};   // foreign_lock_holder: that process's command name
  FingerprintCheck fingerprint{};
};

// One slot as check_segment() found it; valid until the visit returns.
struct SlotReport {
  std::uint64_t index = 0;
  bool ready = false;                  // state ready: a published server
  std::string_view stored_name;        // ready: the name bytes as they lie (at most kMaxNameLength; maybe damaged)
  std::vector<SlotFinding> findings;   // the slot's own words, in a fixed order
  std::vector<DataProblem> data_problems;  // ready: its data (a consistent copy, or as it lies when none can be had)
  const SlotCopy* data = nullptr;      // ready: that data, for wording its problems
};

// The registry entry `entry` (0..kMaxAttachedProcesses-1) of a live pid
// carries process kind `kind`, which no program has.
struct UnknownProcessKind {
  int entry;
  std::uint32_t kind;
};

struct SegmentCheck {
  std::uint64_t ready_slots = 0;     // slots in state ready
  std::vector<UnknownProcessKind> unknown_process_kinds;
};

// Calls visit(report) for every slot, in slot order, then judges the
// process registry. `now` judges the data (shm/invariants.h).
SegmentCheck check_segment(Segment& segment, std::int64_t now,
                           const std::function<void(const SlotReport&)>& visit);

}  // namespace servertrack::shm
