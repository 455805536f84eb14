// Public as data: the workers and shmtool read the header's counters and
// registry through shm/segment.h (include that); the slot words' protocol is
// internal to shm/ (shm/slot.h, shm/table.h).
// The byte layout of the shared segment: a header page, a fingerprint array
// (one u32 per slot, padded to whole pages), then `capacity` slots.
//
// This file is the contract between every process that maps the segment. Any
// change to a struct below must bump kLayoutVersion. The static_asserts at the
// end of the file keep the offsets written in the comments honest.
//
// Who writes what (docs/design.md, "Concurrency rules"):
// - Header identity fields: written once by the creator before `layout_version`
//   is stored (release). A version of 0 means "not ready".
// - Header counters and the process registry: atomics, any process.
// - Fingerprints: written by the claimer of a slot, after the slot's name is
//   published, and by a delete or reuse (shm/table.h); 0 until then.
// - Slot.state / name_length / name / name_hash: written by the holder of the
//   slot's lock inside a seq-odd window: a claim writes them while the state is
//   not kSlotReady and publishes with state = kSlotReady (release); a delete
//   or the reuse of an expired slot sets kSlotRetired (shm/table.h).
// - Slot.seq, journal, buckets, hour_newest, last_sample_unix: written only by
//   the holder of the slot's lock, inside a seq-odd window (shm/slot.h: the
//   lock protocol, the clock policy and the retry rule). Readers copy them
//   lock-free and retry when `seq` changed or was odd.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace servertrack::shm {

inline constexpr std::uint64_t kMagic = 0x4b43'4152'5456'5253;  // "SRVTRACK" little-endian
inline constexpr std::uint32_t kLayoutVersion = 4;
inline constexpr std::size_t kMaxNameLength = 253;  // the rule: shm/name.h
inline constexpr std::size_t kNameBytes = 256;      // the slot's name field
inline constexpr int kMinuteBuckets = 60;
inline constexpr int kHourBuckets = 24;
inline constexpr int kMaxDays = 366;  // the longest day window a segment may keep
inline constexpr int kMaxAttachedProcesses = 64;

inline constexpr std::uint32_t kSlotEmpty = 0;
inline constexpr std::uint32_t kSlotReady = 1;
inline constexpr std::uint32_t kSlotRetired = 2;  // deleted or reused: free, probes walk on

// A server with no sample in this many seconds has expired: it reads as absent
// and its slot may be reused (shm/slot.h, expired()).
inline constexpr std::int64_t kExpirySeconds = 24 * 3600;

// One time bucket: the minute (hour) it holds and the running sums.
// A bucket whose `index` is not the minute (hour) asked for is stale: it reads
// as empty, and the writer that reuses its ring position resets it first.
//   offset 0  index    u32  unix_seconds / 60 (or / 3600)
//   offset 4  count    u32  samples in that minute (hour)
//   offset 8  cpu_sum  f64
//   offset 16 ram_sum  f64   -> 24 bytes
struct Bucket {
  std::atomic<std::uint32_t> index;
  std::atomic<std::uint32_t> count;
  std::atomic<double> cpu_sum;
  std::atomic<double> ram_sum;
};

// A plain copy of a Bucket, used in the journal and by readers.
struct BucketValue {
  std::uint32_t index = 0;
  std::uint32_t count = 0;
  double cpu_sum = 0;
  double ram_sum = 0;
};

// The undo record of the one sample being written. The lock holder fills it
// before making `seq` odd; whoever takes the lock over from a dead owner (or a
// reader that finds the owner dead) restores these two buckets, so a crash
// loses at most the sample in flight and never leaves a half-written bucket.
// A claim or delete sets both positions to kNoBucket: nothing to restore.
//   offset 0  minute_pos u32
//   offset 4  hour_pos   u32
//   offset 8  minute_before BucketValue (24)
//   offset 32 hour_before   BucketValue (24)
//   offset 56 last_sample_before i64
//   offset 64 hour_newest_before u32
//   offset 68 reserved u32  -> 72 bytes
inline constexpr std::uint32_t kNoBucket = 0xffff'ffff;
struct Journal {
  std::uint32_t minute_pos;
  std::uint32_t hour_pos;
  BucketValue minute_before;
  BucketValue hour_before;
  std::int64_t last_sample_before;
  std::uint32_t hour_newest_before;
  std::uint32_t reserved;
};

// One server. 2,496 bytes, 64-byte aligned so no two slots share a cache line.
// The first line holds what a probe, a lock and an expiry check read, and the
// first 24 bytes of the name.
//   offset 0    state            atomic u32  kSlotEmpty / kSlotReady / kSlotRetired
//   offset 4    seq              atomic u32  even = stable, odd = write in progress
//   offset 8    lock_owner       atomic u64  LockWord of the writer holding the slot, 0 = free
//                                            (shm/owner.h: thread id | start time << 32)
//   offset 16   name_length      u32         1..253
//   offset 20   reserved         u32         zero
//   offset 24   name_hash        u64         hash_name(name), speeds up probing
//   offset 32   last_sample_unix atomic i64  time of the newest sample held: its stated
//                                            time or its arrival (a new claim: its first
//                                            sample's), never after the last writer's
//                                            clock + kClockSlack (shm/slot.h)
//   offset 40   name             char[256]   not NUL-terminated, zero-padded
//   offset 296  journal          Journal (72)
//   offset 368  hour_newest      atomic u32[24]  per hour bucket: 1 + milliseconds
//                                            into its hour of the newest sample with
//                                            a stated time counted there, 0 = none
//                                            (the retry rule, shm/slot.h)
//   offset 464  minutes          Bucket[60]  ring, position = minute index % 60
//   offset 1904 hours            Bucket[24]  ring, position = hour index % 24
//   offset 2480 padding to 2496
struct alignas(64) Slot {
  std::atomic<std::uint32_t> state;
  std::atomic<std::uint32_t> seq;
  std::atomic<std::uint64_t> lock_owner;
  std::uint32_t name_length;
  std::uint32_t reserved;
  std::uint64_t name_hash;
  std::atomic<std::int64_t> last_sample_unix;
  char name[kNameBytes];
  Journal journal;
  std::atomic<std::uint32_t> hour_newest[kHourBuckets];
  Bucket minutes[kMinuteBuckets];
  Bucket hours[kHourBuckets];
};

// A process attached to the segment, for `shmtool info` and `shmtool remove`.
// An entry is claimed by CAS of `pid` from 0 (or from a dead pid).
//   offset 0  pid          atomic u32
//   offset 4  kind         atomic u32  ProcessKind
//   offset 8  start_unix   atomic i64  -> 16 bytes
struct ProcessEntry {
  std::atomic<std::uint32_t> pid;
  std::atomic<std::uint32_t> kind;
  std::atomic<std::int64_t> start_unix;
};

// Counters shared by all processes; monotonic except used_slots. None is
// updated inside a slot's critical section, so each may run behind the truth
// by at most one per process killed (docs/design.md, "Concurrency rules",
// "Counters"); the buckets' counts are exact.
//   offset 0  used_slots             a hint: slots holding a live (not expired)
//                                    server; recounted when it says the table is
//                                    full (shm/table.h, recount_used_slots())
//   offset 8  samples_recorded
//   offset 16 lock_takeovers         locks taken from a dead owner
//   offset 24 table_full_rejections  new names refused because no slot was free
struct Counters {
  std::atomic<std::uint64_t> used_slots;
  std::atomic<std::uint64_t> samples_recorded;
  std::atomic<std::uint64_t> lock_takeovers;
  std::atomic<std::uint64_t> table_full_rejections;
};

// The self-describing first page of the segment (as in LMDB and Aeron).
//   offset 0    magic           u64          kMagic
//   offset 8    layout_version  atomic u32   written last by the creator; 0 = not ready
//   offset 12   header_size     u32          4096
//   offset 16   capacity        u64          number of slots
//   offset 24   slot_size       u32          sizeof(Slot)
//   offset 28   mode            u32          permission bits given at creation
//   offset 32   created_unix    i64
//   offset 40   slots_offset    u64          byte offset of slot 0: slots_offset(capacity)
//   offset 48   pid_namespace   u64          inode of the creator's pid namespace: lock
//                                            words name thread ids of this namespace only
//   offset 56   reserved        8 bytes, zero
//   offset 64   counters        Counters (32)
//   offset 96   reserved        32 bytes, zero
//   offset 128  processes       ProcessEntry[64] (1024)
//   offset 1152 reserved up to 4096
struct alignas(64) Header {
  std::uint64_t magic;
  std::atomic<std::uint32_t> layout_version;
  std::uint32_t header_size;
  std::uint64_t capacity;
  std::uint32_t slot_size;
  std::uint32_t mode;
  std::int64_t created_unix;
  std::uint64_t slots_offset;
  std::uint64_t pid_namespace;
  std::uint8_t reserved0[8];
  Counters counters;
  std::uint8_t reserved1[32];
  ProcessEntry processes[kMaxAttachedProcesses];
  std::uint8_t reserved2[4096 - 1152];
};

// The fingerprint array starts right after the header: fingerprint[i] belongs
// to slot i (shm/table.h says what it holds). Padded to a whole page so every
// slot starts 64-byte aligned and the array shares no page with a slot.
using Fingerprint = std::atomic<std::uint32_t>;
inline constexpr std::uint64_t kPageBytes = 4096;

inline constexpr std::uint64_t fingerprint_bytes(std::uint64_t capacity) {
  return (capacity * sizeof(Fingerprint) + kPageBytes - 1) / kPageBytes * kPageBytes;
}
inline constexpr std::uint64_t slots_offset(std::uint64_t capacity) {
  return kPageBytes + fingerprint_bytes(capacity);
}
inline constexpr std::uint64_t segment_bytes(std::uint64_t capacity) {
  return slots_offset(capacity) + capacity * sizeof(Slot);
}

// ---- keep the comments above honest -------------------------------------
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(std::atomic<std::int64_t>::is_always_lock_free);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<double>::is_always_lock_free);
static_assert(sizeof(std::atomic<std::uint32_t>) == 4 && sizeof(std::atomic<double>) == 8);

static_assert(sizeof(Bucket) == 24 && alignof(Bucket) == 8);
static_assert(sizeof(BucketValue) == 24);
static_assert(sizeof(Journal) == 72);
static_assert(offsetof(Slot, seq) == 4);
static_assert(offsetof(Slot, lock_owner) == 8);
static_assert(offsetof(Slot, name_length) == 16);
static_assert(offsetof(Slot, name_hash) == 24);
static_assert(offsetof(Slot, last_sample_unix) == 32);
static_assert(offsetof(Slot, name) == 40);
static_assert(offsetof(Slot, journal) == 296);
static_assert(offsetof(Slot, hour_newest) == 368);
static_assert(offsetof(Slot, minutes) == 464);
static_assert(offsetof(Slot, hours) == 1904);
static_assert(sizeof(Slot) == 2496 && alignof(Slot) == 64);
static_assert(kMaxNameLength <= kNameBytes);

static_assert(sizeof(ProcessEntry) == 16);
static_assert(sizeof(Counters) == 32);
static_assert(offsetof(Header, layout_version) == 8);
static_assert(offsetof(Header, capacity) == 16);
static_assert(offsetof(Header, slot_size) == 24);
static_assert(offsetof(Header, created_unix) == 32);
static_assert(offsetof(Header, slots_offset) == 40);
static_assert(offsetof(Header, pid_namespace) == 48);
static_assert(offsetof(Header, counters) == 64);
static_assert(offsetof(Header, processes) == 128);
static_assert(sizeof(Header) == kPageBytes);
static_assert(sizeof(Fingerprint) == 4 && std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(slots_offset(1) == 2 * kPageBytes && slots_offset(1024) == 2 * kPageBytes &&
              slots_offset(1025) == 3 * kPageBytes);
static_assert(sizeof(Slot) + sizeof(Fingerprint) <= 2560, "docs/design.md, The segment: at most 2.5 KiB per server");

}  // namespace servertrack::shm
