// The table of slots: open addressing (linear probing) on hash_name().
//
// Slots are claimed under their lock and never freed while the segment exists,
// so concurrent first inserts of one name from any number of processes end in
// one slot. A claimer that died before publishing leaves the slot empty and
// locked by a dead id; the next claimer takes it over and claims it anew.
//
// Any thread of any attached process. find() takes no lock. find_or_claim()
// locks only an empty slot it is about to claim. Cost: one probe per slot
// passed; near a full table, probe sequences grow long (keep load < ~90%).
#pragma once

#include <cstdint>
#include <string_view>

#include "shm/layout.h"

namespace servertrack::shm {

struct Table {
  Slot* slots;
  std::uint64_t capacity;
  Counters* counters;

  // The published slot holding `name`, or nullptr. `name` must be valid.
  Slot* find(std::string_view name, std::uint64_t hash) const noexcept;

  // The slot holding `name`, claiming an empty one for a new name; nullptr
  // when the table has no free slot (counted in table_full_rejections), or,
  // with *busy set (when given), when an empty slot on the way stays locked
  // (lock_slot() gave up on its holder).
  Slot* find_or_claim(std::string_view name, std::uint64_t hash, bool* busy = nullptr) noexcept;
};

}  // namespace servertrack::shm
