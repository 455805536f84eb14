#include "shm/table.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace servertrack::shm {
namespace {

constexpr auto relaxed = std::memory_order_relaxed;
constexpr auto acquire = std::memory_order_acquire;
constexpr auto release = std::memory_order_release;

// Probes a claimer makes when the slot it chose was taken meanwhile.
constexpr int kClaimAttempts = 8;

// Walks the probe sequence of `hash` over the fingerprints, calling
// visit(position, fingerprint, stop) at every position until visit returns a
// slot, sets `stop`, or every position was seen.
template <class Visit>
Slot* probe(const Table& t, std::uint64_t hash, SlotUse use, Visit visit) {
  std::uint64_t pos = hash % t.capacity;
  prefetch(t.slot(pos), t.days, use);
  for (std::uint64_t seen = 0; seen < t.capacity; ++seen) {
    bool stop = false;
    if (Slot* found = visit(pos, t.fingerprints[pos].load(acquire), stop)) return found;
    if (stop) return nullptr;
    pos = pos + 1 == t.capacity ? 0 : pos + 1;
  }
  return nullptr;
}

// A slot that never held a name: it ends every probe sequence through it.
bool never_used(const Slot& slot) noexcept { return slot.state.load(acquire) == kSlotEmpty; }

// A slot a claim may take: never used, retired, or holding an expired server.
bool reusable(const Slot& slot, std::int64_t now, int days) noexcept {
  return slot.state.load(acquire) != kSlotReady || expired(slot.last_sample_unix.load(relaxed), now, days);
}

}  // namespace

bool slot_holds(const Slot& slot, std::string_view name, std::uint64_t hash) noexcept {
  return slot.state.load(acquire) == kSlotReady && slot.name_hash == hash && slot.name_length == name.size() &&
         std::memcmp(slot.name, name.data(), name.size()) == 0;
}

Slot* Table::find(std::string_view name, std::uint64_t hash, SlotUse use) const noexcept {
  const std::uint32_t wanted = fingerprint_of(hash);
  return probe(*this, hash, use, [&](std::uint64_t pos, std::uint32_t fingerprint, bool& stop) -> Slot* {
    if (fingerprint != wanted && fingerprint != 0) return nullptr;
    Slot& slot = this->slot(pos);
    if (fingerprint != 0) prefetch(slot, days, use);  // almost surely ours: load it all at once
    if (slot_holds(slot, name, hash)) return &slot;
    stop = fingerprint == 0 && never_used(slot);
    return nullptr;
  });
}

Slot* Table::find_or_claim(std::string_view name, std::uint64_t hash, SlotUse use, std::int64_t now,
                           bool* busy_out) noexcept {
  const std::uint32_t wanted = fingerprint_of(hash);
  Slot& home = slot(hash % capacity);
  const bool home_locked = lock_slot(home, days, *counters) != LockResult::busy;
  bool busy = !home_locked;
  Slot* found = nullptr;
  // Looks at other names' slots for an expired one: a few on the first
  // probe, every one on a table with no free slot left.
  std::uint64_t max_looks = kExpiryLooks;
  for (int attempt = 0; attempt < kClaimAttempts && found == nullptr && !busy; ++attempt) {
    std::uint64_t candidate = capacity;  // none yet
    std::uint64_t looks = 0;
    bool walked_all = true;
    found = probe(*this, hash, use, [&](std::uint64_t pos, std::uint32_t fingerprint, bool& stop) -> Slot* {
      Slot& slot = this->slot(pos);
      if (fingerprint != wanted && fingerprint != 0 && fingerprint != kRetiredFingerprint) {
        if (candidate == capacity && looks < max_looks) {
          ++looks;
          if (reusable(slot, now, days)) candidate = pos;
        }
        return nullptr;
      }
      if (slot_holds(slot, name, hash)) {
        if (fingerprint != wanted) fingerprints[pos].store(wanted, release);  // its claimer died
        return &slot;
      }
      const std::uint32_t state = slot.state.load(acquire);
      if (state == kSlotReady && fingerprint != wanted) {  // another name's, its claimer died
        fingerprints[pos].store(fingerprint_of(slot.name_hash), release);
      }
      if (candidate == capacity && reusable(slot, now, days)) candidate = pos;
      stop = state == kSlotEmpty;
      walked_all = !stop;
      return nullptr;
    });
    if (found == nullptr && candidate == capacity && walked_all && max_looks < capacity) {
      max_looks = capacity;  // no free slot anywhere: look at every server for an expired one
      continue;
    }
    if (found != nullptr || candidate == capacity) break;
    Slot& slot = this->slot(candidate);
    const bool is_home = &slot == &home;
    if (!is_home && lock_slot(slot, days, *counters) == LockResult::busy) {
      busy = true;
      break;
    }
    if (reusable(slot, now, days)) {  // still free under its lock
      const bool was_ready = slot.state.load(relaxed) == kSlotReady;
      if (was_ready) fingerprints[candidate].store(kRetiredFingerprint, release);
      // A new server's last sample is the sample it is claimed for (its
      // stated time when backfilled), never the arrival second.
      assign_slot(slot, days, name, hash, use.kind == SlotUse::sample ? use.now : now);
      fingerprints[candidate].store(wanted, release);
      counters->used_slots.fetch_add(1, relaxed);  // a live server more (shm/layout.h, Counters)
      found = &slot;
    }
    if (!is_home) unlock_slot(slot);
  }
  if (home_locked) unlock_slot(home);
  if (found == nullptr && !busy) {
    counters->table_full_rejections.fetch_add(1, relaxed);
    recount_used_slots(now);  // a full probe found no free slot: make the hint say so
  }
  if (busy_out != nullptr) *busy_out = busy;
  return found;
}

bool Table::retire_locked(Slot& slot, std::int64_t now) noexcept {
  const bool live = !expired(slot.last_sample_unix.load(relaxed), now, days);
  retire_slot(slot);
  fingerprints[index_of(slot)].store(kRetiredFingerprint, release);
  if (live) counters->used_slots.fetch_sub(1, relaxed);  // an expired one is no longer counted
  return live;
}

Table::ServerCount Table::count_servers(std::int64_t now) const noexcept {
  ServerCount count{0, std::numeric_limits<std::int64_t>::max()};
  for (std::uint64_t i = 0; i < capacity; ++i) {
    const Slot& slot = this->slot(i);  // fingerprints may be damaged: the slots say
    const std::int64_t last = slot.last_sample_unix.load(relaxed);
    if (slot.state.load(acquire) != kSlotReady || expired(last, now, days)) continue;
    ++count.live;
    count.next_expiry = std::min(count.next_expiry, last + expiry_seconds(days));
  }
  return count;
}

Table::ServerCount Table::recount_used_slots(std::int64_t now) noexcept {
  const ServerCount count = count_servers(now);
  counters->used_slots.store(count.live, relaxed);
  return count;
}

}  // namespace servertrack::shm
