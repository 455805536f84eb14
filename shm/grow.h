// Public: used by shmtool (`shmtool grow`) and the tests. Growing a live
// segment into a larger one while the workers serve, without losing an
// acknowledged sample (README, "Growing without stopping"; docs/design.md,
// "Concurrency rules", "Growing").
//
// The steps, run by one process (the grow step), each safe to die after:
//  1. create the larger segment under a temporary name, grow_name(name);
//  2. (after the first pass of 3) old.freeze_writes(): from now on every record() and forget() answers
//     `moved` (HTTP 503, Retry-After) and the step waits until no live writer
//     holds a slot's lock. A writer checks the freeze under its slot's lock,
//     after the lock's compare-and-swap and a seq_cst fence; the step stores
//     the freeze, fences, then reads every lock word (Dekker's pattern): so a
//     write either finished before the step saw its slot unlocked, or saw the
//     freeze and wrote nothing;
//  3. copy_changed(old, larger) twice: every server holding a sample while
//     writes go on, then, frozen, only the slots that changed since (a slot
//     claimed for a sample that the freeze then refused holds none and is
//     left out), so writes wait for the changes, not the capacity;
//  4. publish_grown(name): rename(2) of the larger segment's file over the old
//     one's, atomic; processes attached to the old one keep their mapping;
//  5. old.mark_superseded(): its writes stay refused for good, and its workers,
//     seeing superseded(), leave so that the supervisor starts them anew,
//     attached to the larger segment.
// A step that dies before 4 leaves the old segment named and frozen by a dead
// owner: the first writer to meet the freeze lifts it (and the next grow
// removes the leftover temporary segment). Dying between 4 and 5 leaves a dead
// freeze on a segment no longer named: its writers answer `moved`, as after 5.
//
// Cold path, one thread of one process; each pass of copy_changed() is
// O(capacity), the frozen one with a slot copy per server that changed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shm/segment.h"

namespace servertrack::shm {

// The temporary name of a segment being grown: "<name>.grow" (a valid
// segment name when `name` is one of at most 250 characters).
std::string grow_name(const std::string& name);

struct GrowCopy {
  std::uint64_t servers = 0;         // copied
  std::uint64_t without_sample = 0;  // claimed slots with no sample, left out
  std::uint64_t unreadable = 0;      // servers copy_slot() answered busy for (damage); not copied
};

// Step 3 in two passes, so that writes are frozen only while what changed is
// copied: the first pass (writes open, `before` empty) copies every server of
// `from` holding a sample into `to` (fresh, larger) exactly (data, retry marks,
// last sample time) and notes each slot's sequence word; the second (frozen)
// forgets in `to` every name whose slot changed since and copies again every
// server whose slot changed or whose name was forgotten. Then `to`'s used_slots
// is recounted at `now`. false when `to` runs out of slots.
struct PreCopy {
  std::vector<std::uint64_t> sequences;  // per slot of `from`: the sequence word copied at
  std::vector<std::string> names;        // per slot of `from`: the name copied
};
bool copy_changed(Segment& from, Segment& to, std::int64_t now, PreCopy& before, GrowCopy& count);

// Step 4: renames the object grow_name(name) over `name`. False with errno set
// when rename(2) fails.
bool publish_grown(const std::string& name) noexcept;

struct GrowResult {
  enum class Outcome {
    grown,
    not_larger,       // capacity is not above the segment's: a segment only grows
    already_replaced, // a grow replaced it already (its workers are moving)
    frozen_elsewhere, // another live grow step holds the freeze, or a writer held a lock too long
    no_room,          // the larger segment ran out of slots (cannot happen with more slots)
    rename_failed,    // publishing failed; `error` says why (errno's text)
  } outcome = Outcome::grown;
  std::uint64_t old_capacity = 0;
  GrowCopy copied;
  double frozen_ms = 0;  // how long writes were refused
  std::string error;
};

// All five steps on the live segment `name` (read-write attach): on any
// outcome but grown, the segment serves on unchanged (thawed, the temporary
// one removed). Throws SegmentError when a segment cannot be attached or
// created (absent, no space in /dev/shm).
GrowResult grow(const std::string& name, std::uint64_t capacity, int patience_ms, std::int64_t now);

}  // namespace servertrack::shm
