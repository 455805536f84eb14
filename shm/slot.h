// The concurrency protocol of one slot (docs/design.md, "Concurrency rules").
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

// Adds one sample at unix time `now` to the minute and hour buckets. Caller
// holds the lock. A sample older than what its ring position already holds is
// not added to that window (it has already expired from it).
void write_sample(Slot& slot, double cpu, double ram, std::int64_t now) noexcept;

// A consistent copy of a slot's data.
struct SlotCopy {
  BucketValue minutes[kMinuteBuckets];
  BucketValue hours[kHourBuckets];
  std::int64_t last_sample_unix;
};

enum class ReadResult { ok, busy };

// `may_repair`: the caller's mapping is writable, so a slot left mid-write by a
// dead writer may be repaired (by taking its lock over) rather than reported busy.
ReadResult read_slot(Slot& slot, SlotCopy& out, Counters& counters, bool may_repair) noexcept;

// Which of a slot's cache lines a caller is about to touch.
struct SlotUse {
  enum Kind { sample, whole } kind;  // one sample's lines / every line
  std::int64_t now = 0;              // sample: its time, which picks its two buckets
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
