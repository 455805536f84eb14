#include "shm/table.h"

#include <cstring>

#include "shm/slot.h"

namespace servertrack::shm {
namespace {

constexpr auto relaxed = std::memory_order_relaxed;
constexpr auto acquire = std::memory_order_acquire;
constexpr auto release = std::memory_order_release;

bool holds(const Slot& slot, std::string_view name, std::uint64_t hash) noexcept {
  return slot.name_hash == hash && slot.name_length == name.size() &&
         std::memcmp(slot.name, name.data(), name.size()) == 0;
}

// Walks the probe sequence of `hash`, calling visit(slot) until it returns a
// non-null result or every slot was seen.
template <class Visit>
Slot* probe(Slot* slots, std::uint64_t capacity, std::uint64_t hash, Visit visit) {
  std::uint64_t pos = hash % capacity;
  for (std::uint64_t seen = 0; seen < capacity; ++seen) {
    bool stop = false;
    if (Slot* found = visit(slots[pos], stop)) return found;
    if (stop) return nullptr;
    pos = pos + 1 == capacity ? 0 : pos + 1;
  }
  return nullptr;
}

}  // namespace

Slot* Table::find(std::string_view name, std::uint64_t hash) const noexcept {
  return probe(slots, capacity, hash, [&](Slot& slot, bool& stop) -> Slot* {
    const std::uint32_t state = slot.state.load(acquire);
    if (state == kSlotEmpty) stop = true;
    return state == kSlotReady && holds(slot, name, hash) ? &slot : nullptr;
  });
}

Slot* Table::find_or_claim(std::string_view name, std::uint64_t hash, bool* busy_out) noexcept {
  bool busy = false;
  Slot* slot = probe(slots, capacity, hash, [&](Slot& slot, bool& stop) -> Slot* {
    if (slot.state.load(acquire) == kSlotEmpty) {
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
        counters->used_slots.fetch_add(1, relaxed);
        unlock_slot(slot);
        return &slot;
      }
      unlock_slot(slot);  // someone published it meanwhile: compare below
    }
    return slot.state.load(acquire) == kSlotReady && holds(slot, name, hash) ? &slot : nullptr;
  });
  if (slot == nullptr && !busy) counters->table_full_rejections.fetch_add(1, relaxed);
  if (busy_out != nullptr) *busy_out = busy;
  return slot;
}

}  // namespace servertrack::shm
