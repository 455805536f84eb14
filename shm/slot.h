// The concurrency protocol of one slot (DESIGN.md, "Concurrency rules").
//
// Writers: lock_slot() -> write_sample() -> unlock_slot(). The lock word holds
// the writer's owner_id(); a waiter that finds the holder dead takes the lock
// over and undoes the holder's half-written sample from the slot's journal.
// A live holder is never robbed; a waiter gives up (LockResult::busy) when the
// holder makes no progress for kLockPatience, which only a stopped process or
// a damaged lock word (a live id that is no writer) causes.
// Cost uncontended: one CAS to lock, ~10 relaxed stores, one store to unlock.
//
// Readers: read_slot() copies the buckets under the sequence word without
// taking a lock and retries when a write overlapped. It gives up with
// ReadResult::busy after a bounded number of retries (never loops forever),
// and when the sequence word is left odd by a dead writer it repairs the slot
// first if the caller may write (Access::read_write).
//
// All functions may be called from any thread of any attached process.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "shm/layout.h"

namespace servertrack::shm {

struct Counters;

// A critical section lasts ~100 ns; a holder seen making no progress this long
// is stopped or not a writer at all.
inline constexpr auto kLockPatience = std::chrono::seconds(1);

enum class LockResult { acquired, took_over, busy };

// Spins (then yields) until the slot is ours. Takes the lock over from a dead
// holder, repairs the slot, and counts it in counters.lock_takeovers. Returns
// busy, not holding the lock, when a live holder kept it with the sequence
// word unchanged for kLockPatience (never waits forever).
LockResult lock_slot(Slot& slot, Counters& counters) noexcept;
void unlock_slot(Slot& slot) noexcept;

// When a sample was taken, to the millisecond. `stated`: the sender gave the
// time (a backfilled or resent sample, subject to the retry rule below);
// otherwise it is the arrival time.
struct SampleTime {
  std::int64_t unix_ms = 0;
  bool stated = false;
};

enum class WriteResult { counted, repeat };

// Adds one sample taken at `at` to its minute bucket (when that minute is still
// in the 60-minute window ending at `now`) and to its hour bucket; the caller
// has checked that the hour is in the 24-hour window and holds the lock.
// The retry rule: each hour bucket keeps the time of the newest sample with a
// stated time it counted (hour_newest); a sample with a stated time not later
// than that is a repeat, acknowledged and not added again. So a resent sample
// never counts twice, provided one server's timestamped samples arrive in time
// order within each hour (the agent sends oldest first). Samples without a
// stated time are always added and do not move hour_newest.
WriteResult write_sample(Slot& slot, double cpu, double ram, SampleTime at, std::int64_t now) noexcept;

// Change what a slot holds; the caller holds the lock. Both write inside a
// seq-odd window whose journal restores nothing, so a reader never copies a
// mix of two servers, and a crash leaves the slot retired, or published with
// no data. assign_slot() empties the buckets and retry marks, stores the
// name (valid, its hash `hash`) and `last_sample_unix`, then publishes the
// slot (kSlotReady); retire_slot() marks it kSlotRetired. Fingerprints and
// counters are the table's (shm/table.h).
void assign_slot(Slot& slot, std::string_view name, std::uint64_t hash, std::int64_t last_sample_unix) noexcept;
void retire_slot(Slot& slot) noexcept;

// True when a server whose newest sample is `last_sample_unix` has had none
// in the kExpirySeconds before `now`: it reads as absent and its slot may be
// reused for a new name.
constexpr bool expired(std::int64_t last_sample_unix, std::int64_t now) noexcept {
  return last_sample_unix <= now - kExpirySeconds;
}

// A consistent copy of a slot: who it holds and its data.
struct SlotCopy {
  BucketValue minutes[kMinuteBuckets];
  BucketValue hours[kHourBuckets];
  std::uint32_t hour_newest[kHourBuckets];
  std::int64_t last_sample_unix;
  std::uint32_t state;
  std::uint32_t name_length;  // 0 when state is not kSlotReady
  char name[kNameBytes];
  std::string_view name_view() const noexcept { return {name, name_length}; }
};

// The name and newest sample time of the server a slot holds, consistent with
// each other (a claim or delete may rewrite them concurrently).
struct SlotIdentity {
  std::uint32_t name_length = 0;
  char name[kNameBytes];
  std::int64_t last_sample_unix = 0;
  std::string_view name_view() const noexcept { return {name, name_length}; }
};

// False when the slot holds no published server, or its identity stayed
// unstable or invalid for a bounded number of tries. Lock-free, never writes.
bool read_identity(const Slot& slot, SlotIdentity& out) noexcept;

enum class ReadResult { ok, busy };

// `may_repair`: the caller's mapping is writable, so a slot left mid-write by a
// dead writer may be repaired (by taking its lock over) rather than reported busy.
ReadResult read_slot(Slot& slot, SlotCopy& out, Counters& counters, bool may_repair) noexcept;

// Which of a slot's cache lines a caller is about to touch.
struct SlotUse {
  enum Kind { sample, whole } kind;  // one sample's lines / every line
  std::int64_t now = 0;              // sample: its time, which picks its two buckets
  std::size_t name_bytes = 0;        // sample: the length of the name compared
};

// Starts loading (without waiting for) the lines `use` will touch: for a
// sample the name, lock, sequence word, journal and the two buckets of `now`;
// for whole every line. A cold slot then costs about one memory round trip
// rather than one per line. Only a hint: changes nothing; any thread.
void prefetch(const Slot& slot, SlotUse use) noexcept;

namespace testing {
// Called by write_sample() inside the critical section, after the minute bucket
// was updated and before the hour bucket is: lets a test park (and kill) a
// writer mid-write. nullptr (the default) disables it.
void set_critical_section_hook(void (*hook)()) noexcept;
}  // namespace testing

}  // namespace servertrack::shm
