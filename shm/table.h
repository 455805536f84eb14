// Internal to shm/: only shm/*.cc and tests/shm include it.
// The table of slots: open addressing (linear probing) on hash_name(), probed
// through a compact fingerprint array so a lookup reads slots only where a
// fingerprint matches.
//
// fingerprints[i] is 0 while slot i has never held a name (or its claimer has
// not yet published it), kRetiredFingerprint once its server was deleted or
// its slot is being reused, and fingerprint_of(name_hash) while it holds a
// name. A lookup walks the fingerprints from hash % capacity: a match is
// checked against the slot's name; a 0 sends it to the slot itself (a never
// used slot ends the probe; a published one missing its fingerprint, left by a
// claimer that died in between, is compared and, by find_or_claim(), given
// its fingerprint); a retired slot is walked past. So at 1,000,000 servers a
// hit touches one fingerprint line and the one slot it wants instead of every
// slot on its probe sequence, and a table at 90% load probes as cheaply as one
// at 75%. The home slot's lines start loading alongside the fingerprints
// (prefetch()): most names live there or one slot on.
//
// Claims: every claim of a name happens while holding the lock of the name's
// home slot (hash % capacity), so concurrent first inserts of one name from
// any number of processes serialize there and end in one slot, although
// deleted slots are reused. The claimer walks the whole probe sequence (to
// the first never used slot) for the name, and takes the first reusable slot
// on it: never used, retired, or holding a server that has expired (no sample
// for expiry_seconds(days); at most kExpiryLooks other servers' slots are read to
// find one, unless no slot is free anywhere, when every one is). The
// claimed slot is rewritten under its own lock inside a seq-odd window, so a
// reader never sees half of it. A claimer that died mid-claim leaves a slot
// that is retired, or published without its fingerprint; both are repaired by
// the next claim that meets it.
//
// A deleted server's slot is retired under the slot's lock (forget()): writers
// and readers that found it before check, under the lock or the sequence word,
// that the slot still holds their name, and look again when it does not.
//
// Any thread of any attached process. find() takes no lock and writes
// nothing. find_or_claim() locks the home slot and the slot it claims.
// Cost: a few fingerprints per lookup at a load of 90%; probe sequences grow
// long only near a full table, and a new name on a table with no free slot
// reads every slot's first line looking for an expired server (the used_slots
// hint, below, spares a table full of live servers that walk). Measured cold
// (a random server of 1,000,000 per call) and hot figures:
// tests/bench/micro/README.md.
#pragma once

#include <cstdint>
#include <string_view>

#include "shm/layout.h"
#include "shm/slot.h"

namespace servertrack::shm {

// Never 0, so 0 can mean "no name here yet", and always odd, so
// kRetiredFingerprint is none. Uses the hash bits that hash % capacity leaves
// mostly unused.
constexpr std::uint32_t fingerprint_of(std::uint64_t hash) noexcept {
  return static_cast<std::uint32_t>(hash >> 32) | 1u;
}
inline constexpr std::uint32_t kRetiredFingerprint = 2;

// Occupied slots a claimer reads at most, looking for an expired server's slot.
inline constexpr int kExpiryLooks = 64;

// True when the slot is published and holds `name` (whose hash is `hash`).
bool slot_holds(const Slot& slot, std::string_view name, std::uint64_t hash) noexcept;

struct Table {
  Fingerprint* fingerprints;
  char* slots;              // slot 0; slot i is slot_size bytes further on per i
  std::uint64_t slot_size;  // slot_bytes(days), as validated at attach
  int days;                 // the segment's days
  std::uint64_t capacity;
  Counters* counters;

  Slot& slot(std::uint64_t index) const noexcept { return *reinterpret_cast<Slot*>(slots + index * slot_size); }
  std::uint64_t index_of(const Slot& slot) const noexcept {
    return static_cast<std::uint64_t>(reinterpret_cast<const char*>(&slot) - slots) / slot_size;
  }

  // The published slot holding `name`, or nullptr. `name` must be valid.
  // `use` says which of the slot's lines to start loading once it is found.
  // The slot may hold an expired server; a writer checks slot_holds() again
  // under the slot's lock.
  Slot* find(std::string_view name, std::uint64_t hash, SlotUse use) const noexcept;

  // The slot holding `name`, claiming a reusable one (judged at `now`) for a
  // new name; a new claim counts as a sample at the time of the sample it is
  // claimed for (use.now, a stated time when backfilled; `now` for a whole
  // slot, which restore_server() overwrites) until that sample is written. nullptr when the table has no reusable slot (counted in
  // table_full_rejections, and the used_slots hint recounted), or, with *busy
  // set (when given), when a lock on the way stays held (lock_slot() gave up).
  Slot* find_or_claim(std::string_view name, std::uint64_t hash, SlotUse use, std::int64_t now,
                      bool* busy = nullptr) noexcept;

  // Retires `slot`, whose lock the caller holds and which holds a server:
  // its server is gone, the slot is free for a new name. Returns whether the
  // server was live (not expired) at `now`, and so counted in used_slots.
  bool retire_locked(Slot& slot, std::int64_t now) noexcept;

  // The slots holding a server not expired at `now`, counted: one read of
  // every slot's first line, O(capacity) cache misses. Any thread; writes
  // nothing.
  struct ServerCount {
    std::uint64_t live;
    std::int64_t next_expiry;  // when the first of them expires; INT64_MAX for none
  };
  ServerCount count_servers(std::int64_t now) const noexcept;

  // Stores count_servers(now).live in counters.used_slots and returns the count. The
  // counter is a hint: claims add one, deletes of a live server take one
  // away, and servers that expire are taken away only by a recount; a
  // claimer killed between publishing a slot and counting it leaves it one
  // short, damage may leave anything. record() trusts it only to skip
  // probing a table it says is full, and recounts (at most once a second per
  // process) before refusing. A claim racing the recount may leave it off by
  // one again.
  ServerCount recount_used_slots(std::int64_t now) noexcept;
};

}  // namespace servertrack::shm
