// The table of slots: open addressing (linear probing) on hash_name(), probed
// through a compact fingerprint array so a lookup reads slots only where a
// fingerprint matches.
//
// fingerprints[i] is 0 while slot i is empty (or its claimer has not yet
// published it) and fingerprint_of(name_hash) once slot i holds a name. A
// probe walks the fingerprints from hash % capacity: a match is checked
// against the slot's name; a 0 sends the probe to the slot itself (an empty
// slot ends the probe, a published one missing its fingerprint, left by a
// claimer that died in between, is compared and, by find_or_claim(), given
// its fingerprint). So at 1,000,000 servers a hit touches one fingerprint line
// and the one slot it wants instead of every slot on its probe sequence, and a
// table at 90% load probes as cheaply as one at 75% (2.4 KiB per server
// instead of 2.9). The home slot's lines start loading alongside the
// fingerprints (prefetch()): most names live there or one slot on.
//
// Slots are claimed under their lock and never freed while the segment exists,
// so concurrent first inserts of one name from any number of processes end in
// one slot. A claimer that died before publishing leaves the slot empty and
// locked by a dead id; the next claimer takes it over and claims it anew.
//
// Any thread of any attached process. find() takes no lock and writes
// nothing. find_or_claim() locks only an empty slot it is about to claim.
// Cost: a few fingerprints per lookup at a load of 90%; probe sequences grow
// long only near a full table. Measured cold (a random server of 1,000,000 per
// call) and hot figures: tests/bench/micro/README.md.
#pragma once

#include <cstdint>
#include <string_view>

#include "shm/layout.h"
#include "shm/slot.h"

namespace servertrack::shm {

// Never 0, so 0 can mean "no name here yet". Uses the hash bits that
// hash % capacity leaves mostly unused.
constexpr std::uint32_t fingerprint_of(std::uint64_t hash) noexcept {
  return static_cast<std::uint32_t>(hash >> 32) | 1u;
}

struct Table {
  Fingerprint* fingerprints;
  Slot* slots;
  std::uint64_t capacity;
  Counters* counters;

  // The published slot holding `name`, or nullptr. `name` must be valid.
  // `use` says which of the slot's lines to start loading once it is found.
  Slot* find(std::string_view name, std::uint64_t hash, SlotUse use) const noexcept;

  // The slot holding `name`, claiming an empty one for a new name; nullptr
  // when the table has no free slot (counted in table_full_rejections), or,
  // with *busy set (when given), when an empty slot on the way stays locked
  // (lock_slot() gave up on its holder).
  Slot* find_or_claim(std::string_view name, std::uint64_t hash, SlotUse use, bool* busy = nullptr) noexcept;
};

}  // namespace servertrack::shm
