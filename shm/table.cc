#include "shm/table.h"

#include <cstring>

namespace servertrack::shm {
namespace {

constexpr auto relaxed = std::memory_order_relaxed;
constexpr auto acquire = std::memory_order_acquire;
constexpr auto release = std::memory_order_release;

bool holds(const Slot& slot, std::string_view name, std::uint64_t hash) noexcept {
  return slot.state.load(acquire) == kSlotReady && slot.name_hash == hash && slot.name_length == name.size() &&
         std::memcmp(slot.name, name.data(), name.size()) == 0;
}

// Walks the probe sequence of `hash` over the fingerprints, calling
// visit(position, fingerprint, stop) at every position whose fingerprint is
// the wanted one or 0, until visit returns a slot, sets `stop`, or every
// position was seen.
template <class Visit>
Slot* probe(const Table& t, std::uint64_t hash, SlotUse use, Visit visit) {
  const std::uint32_t wanted = fingerprint_of(hash);
  std::uint64_t pos = hash % t.capacity;
  prefetch(t.slots[pos], use);
  for (std::uint64_t seen = 0; seen < t.capacity; ++seen) {
    const std::uint32_t fingerprint = t.fingerprints[pos].load(acquire);
    if (fingerprint == wanted || fingerprint == 0) {
      bool stop = false;
      if (Slot* found = visit(pos, fingerprint, stop)) return found;
      if (stop) return nullptr;
    }
    pos = pos + 1 == t.capacity ? 0 : pos + 1;
  }
  return nullptr;
}

}  // namespace

Slot* Table::find(std::string_view name, std::uint64_t hash, SlotUse use) const noexcept {
  return probe(*this, hash, use, [&](std::uint64_t pos, std::uint32_t fingerprint, bool& stop) -> Slot* {
    Slot& slot = slots[pos];
    if (fingerprint != 0) prefetch(slot, use);  // almost surely ours: load it all at once
    if (holds(slot, name, hash)) return &slot;
    stop = fingerprint == 0 && slot.state.load(acquire) == kSlotEmpty;
    return nullptr;
  });
}

Slot* Table::find_or_claim(std::string_view name, std::uint64_t hash, SlotUse use, bool* busy_out) noexcept {
  bool busy = false;
  Slot* found = probe(*this, hash, use, [&](std::uint64_t pos, std::uint32_t fingerprint, bool& stop) -> Slot* {
    Slot& slot = slots[pos];
    if (fingerprint != 0) prefetch(slot, use);
    if (fingerprint == 0 && slot.state.load(acquire) == kSlotEmpty) {
      if (lock_slot(slot, *counters) == LockResult::busy) {
        busy = stop = true;
        return nullptr;
      }
      if (slot.state.load(acquire) == kSlotEmpty) {  // still ours to claim
        slot.name_length = static_cast<std::uint32_t>(name.size());
        slot.name_hash = hash;
        std::memcpy(slot.name, name.data(), name.size());
        std::memset(slot.name + name.size(), 0, kMaxNameLength - name.size());
        slot.state.store(kSlotReady, release);
        fingerprints[pos].store(fingerprint_of(hash), release);
        counters->used_slots.fetch_add(1, relaxed);
        unlock_slot(slot);
        return &slot;
      }
      unlock_slot(slot);  // someone published it meanwhile: compare below
    }
    if (fingerprint == 0 && slot.state.load(acquire) == kSlotReady) {
      // Published by a claimer that died before storing the fingerprint.
      fingerprints[pos].store(fingerprint_of(slot.name_hash), release);
    }
    return holds(slot, name, hash) ? &slot : nullptr;
  });
  if (found == nullptr && !busy) {
    counters->table_full_rejections.fetch_add(1, relaxed);
    recount_used_slots();  // a full probe found no free slot: make the hint say so
  }
  if (busy_out != nullptr) *busy_out = busy;
  return found;
}

std::uint64_t Table::count_published() const noexcept {
  std::uint64_t published = 0;
  for (std::uint64_t i = 0; i < capacity; ++i) {
    published += slots[i].state.load(acquire) == kSlotReady;  // fingerprints may be damaged
  }
  return published;
}

std::uint64_t Table::recount_used_slots() noexcept {
  const std::uint64_t published = count_published();
  counters->used_slots.store(published, relaxed);
  return published;
}

}  // namespace servertrack::shm
