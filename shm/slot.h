// Internal to shm/: only shm/*.cc, tests/shm and tests/cli/record_samples.cc (its
// hook) include it. The concurrency protocol of one slot (docs/design.md, "Concurrency rules").
//
// Writers: lock_slot() -> write_sample() -> unlock_slot(). The lock word holds
// the writer's owner_id() (shm/owner.h: thread id and start time, which a
// recycled id cannot fake); a waiter that finds the holder dead takes the lock
// over by compare-and-swap of the very word it found dead, and undoes the
// holder's half-written sample from the slot's journal. A live holder is never
// robbed; a waiter gives up (LockResult::busy) when the holder makes no
// progress for kLockPatience, which only a stopped process or a damaged lock
// word (a live thread that is no writer) causes. Such a wedged slot is
// remembered by the process for kWedgedMemory: while its lock word and
// sequence word stay the same, lock_slot() answers busy at once instead of
// waiting again, so a client retrying a wedged server holds no thread long.
// Cost uncontended: one CAS to lock, ~10 relaxed stores, one store to unlock.
//
// Every function taking `days` needs the segment's days (the length of the
// day ring after the slot's fixed part: shm/layout.h), as validated at attach.
//
// Clock policy: every sample is counted in the minute, hour and day of its own
// time. A bucket or last sample time later than the writer's clock plus
// kClockSlack was written by a clock that ran ahead and has since been set
// back; the writer clears it inside its critical section before adding, so
// an acknowledged sample is never dropped for a "newer" bucket, and the slot
// never again shows samples of a wrong clock as a current period.
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
#include "shm/server_data.h"
#include "shm/window.h"

namespace servertrack::shm {

struct Counters;

// A critical section lasts ~100 ns; a holder seen making no progress this long
// is stopped or not a writer at all (or descheduled on a badly overloaded host:
// the writer then answers busy and the client retries).
inline constexpr auto kLockPatience = std::chrono::milliseconds(100);
// How long a process remembers a slot it found wedged (see above).
inline constexpr auto kWedgedMemory = std::chrono::seconds(1);

enum class LockResult { acquired, took_over, busy };

// Spins (then yields) until the slot is ours. Takes the lock over from a dead
// holder, repairs the slot, and counts it in counters.lock_takeovers. Returns
// busy, not holding the lock, when a live holder kept it with the sequence
// word unchanged for kLockPatience, or at once when this process found the
// slot wedged in the same state less than kWedgedMemory ago.
LockResult lock_slot(Slot& slot, int days, Counters& counters) noexcept;
void unlock_slot(Slot& slot) noexcept;



enum class WriteResult { counted, repeat, full };

// Adds `sample` to the minute, hour and day buckets of sample.time, after
// clearing what the clock policy above calls the future of `now` (the
// writer's clock). Caller holds the lock. Precondition:
// oldest_sample_time(now, days) <= sample.time <= now + kClockSlack (record()
// checks it). The sample is counted in each ring whose window holds its
// period: its minute when that is in the minute window of `now` and its ring
// position holds no newer minute; its hour when in the 24 hours ending at
// now + kClockSlack; its day when in the `days` days ending there. A ring
// position holding an older period is reset first.
// Each metric the sample carries is counted on its own (count, sum, max).
// The retry rule, per metric: a stated sample is a repeat when the finest
// ring that counts it already marked it: its second in the minute bucket (a
// sample in the minute window), else its minute in the hour bucket (older
// than the minute window: one stated sample per minute and metric), else its
// hour in the day bucket (older than the 24 hours: one per hour and metric).
// Every ring that counts a stated sample marks it. A metric that is a repeat
// is not added again; when every metric the sample carries is, nothing is
// written (WriteResult::repeat). Samples without a stated time are always
// added and mark nothing. So a resent sample counts once whatever the order
// samples arrive in. WriteResult::full, nothing written: the minute bucket
// already counts kMaxMinuteCount samples of a metric the sample would add.
WriteResult write_sample(Slot& slot, int days, const SampleValue& sample, std::int64_t now) noexcept;

// Change what a slot holds; the caller holds the lock. Both write inside a
// seq-odd window whose journal restores nothing, so a reader never copies a
// mix of two servers, and a crash leaves the slot retired, or published with
// no data. assign_slot() empties the three rings (marks included), stores the
// name (valid, its hash `hash`) and `last_sample_unix`, then publishes the
// slot (kSlotReady); retire_slot() marks it kSlotRetired. Fingerprints and
// counters are the table's (shm/table.h).
void assign_slot(Slot& slot, int days, std::string_view name, std::uint64_t hash,
                 std::int64_t last_sample_unix) noexcept;
void retire_slot(Slot& slot) noexcept;



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
ReadResult read_slot(Slot& slot, int days, SlotCopy& out, Counters& counters, bool may_repair) noexcept;

// The slot's data as it lies, without the sequence word: for a slot no
// consistent copy can be taken of (its writer died mid-write and the caller
// may not repair it), so `shmtool check` can still judge it. Leaves the name
// empty. Never writes.
void copy_data_as_is(const Slot& slot, int days, SlotCopy& out) noexcept;

// Stores `data`'s buckets (its first `days` days; days it lacks are empty)
// and last sample time into a slot the
// caller holds the lock of, inside a seq-odd window (shm/segment.h,
// Segment::restore_server()).
void store_data(Slot& slot, int days, const SlotCopy& data) noexcept;


// Reads a LatestMinute (shm/window.h) like read_slot() (lock-free,
// retried, repaired when `may_repair`) but touching 3 cache lines and the
// name rather than the whole slot.
ReadResult read_latest_minute(Slot& slot, int days, std::string_view name, LatestMinute& out, Counters& counters,
                              bool may_repair) noexcept;

// Which of a slot's cache lines a caller is about to touch.
struct SlotUse {
  enum Kind { sample, whole } kind;  // one sample's lines / every line
  std::int64_t now = 0;              // sample: its time, which picks its three buckets
  std::size_t name_bytes = 0;        // sample: the length of the name compared
};

// Starts loading (without waiting for) the lines `use` will touch: for a
// sample the name, lock, sequence word, journal and the three buckets of `now`;
// for whole every line. A cold slot then costs about one memory round trip
// rather than one per line. Only a hint: changes nothing; any thread.
void prefetch(const Slot& slot, int days, SlotUse use) noexcept;

namespace testing {
// Called inside every critical section: by write_sample() after the minute
// bucket was updated and before the hour and day buckets are, by assign_slot() after the
// old server's data is cleared and before the new name is written, by
// retire_slot() after the state is retired and before the sequence word is
// even again. Lets a test park (and kill) a writer, claimer or deleter
// mid-write. nullptr (the default) disables it.
void set_critical_section_hook(void (*hook)()) noexcept;
// The same, called after each future bucket write_sample() clears (the clock
// policy) and before the next: lets a test kill a writer mid-clearing.
void set_clearing_hook(void (*hook)()) noexcept;
// Called by a reader that found a slot unstable for a whole spin round, between
// its first and second look at the lock state (sequence word, then holder):
// lets a test stretch that moment as a preemption of the reader would.
void set_stuck_check_hook(void (*hook)()) noexcept;
// Called by write_sample() inside its critical section with 1 after the
// minute bucket was written, 2 after the hour bucket, 3 after the day bucket
// (before the last sample time): lets a test kill a writer at each.
void set_write_step_hook(void (*hook)(int step)) noexcept;
}  // namespace testing

}  // namespace servertrack::shm
