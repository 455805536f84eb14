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
// - Slot.seq, journal, the three bucket rings, last_sample_unix: written only by
//   the holder of the slot's lock, inside a seq-odd window (shm/slot.h: the
//   lock protocol, the clock policy and the retry rule). Readers copy them
//   lock-free and retry when `seq` changed or was odd.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace servertrack::shm {

inline constexpr std::uint64_t kMagic = 0x4b43'4152'5456'5253;  // "SRVTRACK" little-endian
inline constexpr std::uint32_t kLayoutVersion = 5;
inline constexpr std::size_t kMaxNameLength = 253;  // the rule: shm/name.h
inline constexpr std::size_t kNameBytes = 256;      // the slot's name field
// The periods of the three rings (minutes, hours, UTC days), in seconds.
inline constexpr int kSecondsPerMinute = 60;
inline constexpr int kSecondsPerHour = 60 * kSecondsPerMinute;
inline constexpr int kSecondsPerDay = 24 * kSecondsPerHour;
inline constexpr int kMinuteBuckets = 60;
inline constexpr int kHourBuckets = 24;
inline constexpr int kMaxDays = 366;  // the longest day window a segment may keep
inline constexpr int kMaxAttachedProcesses = 64;

inline constexpr std::uint32_t kSlotEmpty = 0;
inline constexpr std::uint32_t kSlotReady = 1;
inline constexpr std::uint32_t kSlotRetired = 2;  // deleted or reused: free, probes walk on

// The two metrics a sample may carry; every bucket keeps each on its own.
enum Metric : int { kCpu = 0, kRam = 1 };
inline constexpr int kMetrics = 2;

// A server with no sample in this many seconds has expired when the segment
// keeps no more than a day (shm/server_data.h, expiry_seconds()).
inline constexpr std::int64_t kExpirySeconds = kSecondsPerDay;

// The largest sample time a day bucket can hold (its day index is 16 bits):
// 2149-06-06; record() refuses later ones.
inline constexpr std::int64_t kMaxSampleTime = std::int64_t{0xffff} * kSecondsPerDay + kSecondsPerDay - 1;
// The most samples of one metric one minute bucket counts (a u16): record()
// refuses one more with Status::bucket_full.
inline constexpr std::uint32_t kMaxMinuteCount = 0xffff;

// The buckets. A bucket whose period is not the one asked for is stale: it
// reads as empty, and the writer that reuses its ring position resets it
// first. Per metric m (kCpu, kRam): count[m] samples of m were counted there,
// sum[m] their sum, max[m] their maximum rounded to the nearest float (0 when
// count is 0), marks[m] the retry marks of stated samples (shm/slot.h):
//   minute: bit s = a stated sample of second s of that minute was counted
//   hour:   bit k = a stated sample of minute k of that hour was counted
//   day:    bit h = a stated sample of hour h of that day was counted
// Memory order is relaxed throughout: the slot's sequence word orders them.

// One minute, 48 bytes.
//   offset 0  index    u32     unix_seconds / 60
//   offset 4  count    u16[2]  at most kMaxMinuteCount
//   offset 8  max      f32[2]
//   offset 16 sum      f64[2]
//   offset 32 seconds  u64[2]  marks: bits 0..59
struct MinuteBucket {
  std::atomic<std::uint32_t> index;
  std::atomic<std::uint16_t> count[kMetrics];
  std::atomic<float> max[kMetrics];
  std::atomic<double> sum[kMetrics];
  std::atomic<std::uint64_t> seconds[kMetrics];
};

// One hour, 56 bytes.
//   offset 0  index    u32     unix_seconds / 3600
//   offset 4  count    u32[2]
//   offset 12 max      f32[2]
//   offset 20 reserved u32     zero
//   offset 24 sum      f64[2]
//   offset 40 minutes  u64[2]  marks: bits 0..59
struct HourBucket {
  std::atomic<std::uint32_t> index;
  std::atomic<std::uint32_t> count[kMetrics];
  std::atomic<float> max[kMetrics];
  std::uint32_t reserved;
  std::atomic<double> sum[kMetrics];
  std::atomic<std::uint64_t> minutes[kMetrics];
};

// One UTC day, 40 bytes. Its index and both metrics' marks share one word:
// bits 0..15 the day (unix_seconds / 86400), bits 16..39 the cpu hours,
// bits 40..63 the ram hours (day_key() and friends below).
//   offset 0  key    u64
//   offset 8  count  u32[2]
//   offset 16 max    f32[2]
//   offset 24 sum    f64[2]
struct DayBucket {
  std::atomic<std::uint64_t> key;
  std::atomic<std::uint32_t> count[kMetrics];
  std::atomic<float> max[kMetrics];
  std::atomic<double> sum[kMetrics];
};

constexpr std::uint32_t day_of_key(std::uint64_t key) noexcept { return static_cast<std::uint32_t>(key & 0xffff); }
constexpr std::uint32_t hours_of_key(std::uint64_t key, int metric) noexcept {
  return static_cast<std::uint32_t>(key >> (16 + 24 * metric)) & 0xff'ffff;
}
constexpr std::uint64_t day_key(std::uint32_t day, std::uint32_t cpu_hours, std::uint32_t ram_hours) noexcept {
  return (day & 0xffffull) | (std::uint64_t{cpu_hours & 0xff'ffff} << 16) | (std::uint64_t{ram_hours & 0xff'ffff} << 40);
}

// Plain copies of the buckets, used in the journal, by readers and in dumps:
// the same fields, the same layout. Trivial, so that a SlotCopy (room for
// kMaxDays days) costs nothing to declare; `{}` makes an empty one.
struct MinuteValue {
  std::uint32_t index;
  std::uint16_t count[kMetrics];
  float max[kMetrics];
  double sum[kMetrics];
  std::uint64_t seconds[kMetrics];
};
struct HourValue {
  std::uint32_t index;
  std::uint32_t count[kMetrics];
  float max[kMetrics];
  std::uint32_t reserved;
  double sum[kMetrics];
  std::uint64_t minutes[kMetrics];
};
struct DayValue {
  std::uint64_t key;
  std::uint32_t count[kMetrics];
  float max[kMetrics];
  double sum[kMetrics];
};

// The undo record of the one sample being written. The lock holder fills it
// before making `seq` odd; whoever takes the lock over from a dead owner (or a
// reader that finds the owner dead) restores these buckets and the last sample
// time, so a crash loses at most the sample in flight and never leaves a
// half-written bucket. A position is kNoBucket for a ring the sample does not
// touch; a claim or delete sets all three to kNoBucket: nothing to restore.
//   offset 0   minute_pos u32
//   offset 4   hour_pos   u32
//   offset 8   day_pos    u32
//   offset 12  reserved   u32
//   offset 16  last_sample_before i64
//   offset 24  minute_before MinuteValue (48)
//   offset 72  hour_before   HourValue (56)
//   offset 128 day_before    DayValue (40)  -> 168 bytes
inline constexpr std::uint32_t kNoBucket = 0xffff'ffff;
struct Journal {
  std::uint32_t minute_pos;
  std::uint32_t hour_pos;
  std::uint32_t day_pos;
  std::uint32_t reserved;
  std::int64_t last_sample_before;
  MinuteValue minute_before;
  HourValue hour_before;
  DayValue day_before;
};

// One server: a fixed part of 4,688 bytes, then its day ring of `days`
// DayBuckets (the segment's days, in the header), the whole padded to a
// multiple of 64 bytes so no two slots share a cache line (slot_bytes()):
// 5,888 bytes with 30 days, 4,736 with none. The first line holds what a
// probe, a lock and an expiry check read, and the first 24 bytes of the name.
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
//   offset 296  journal          Journal (168)
//   offset 464  minutes          MinuteBucket[60]  ring, position = minute index % 60
//   offset 3344 hours            HourBucket[24]    ring, position = hour index % 24
//   offset 4688 days             DayBucket[days]   ring, position = day index % days
//                                                  (day_ring())
struct alignas(8) Slot {
  std::atomic<std::uint32_t> state;
  std::atomic<std::uint32_t> seq;
  std::atomic<std::uint64_t> lock_owner;
  std::uint32_t name_length;
  std::uint32_t reserved;
  std::uint64_t name_hash;
  std::atomic<std::int64_t> last_sample_unix;
  char name[kNameBytes];
  Journal journal;
  MinuteBucket minutes[kMinuteBuckets];
  HourBucket hours[kHourBuckets];
};

// The day ring that follows a slot's fixed part.
inline DayBucket* day_ring(Slot& slot) noexcept {
  return reinterpret_cast<DayBucket*>(reinterpret_cast<char*>(&slot) + sizeof(Slot));
}
inline const DayBucket* day_ring(const Slot& slot) noexcept {
  return reinterpret_cast<const DayBucket*>(reinterpret_cast<const char*>(&slot) + sizeof(Slot));
}

// The bytes one slot takes with a day ring of `days`: the header's slot_size.
inline constexpr std::uint64_t slot_bytes(int days) noexcept {
  return (sizeof(Slot) + std::uint64_t(days) * sizeof(DayBucket) + 63) / 64 * 64;
}

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
//   offset 24   slot_size       u32          slot_bytes(days)
//   offset 28   mode            u32          permission bits given at creation
//   offset 32   created_unix    i64
//   offset 40   slots_offset    u64          byte offset of slot 0: slots_offset(capacity)
//   offset 48   pid_namespace   u64          inode of the creator's pid namespace: lock
//                                            words name thread ids of this namespace only
//   offset 56   days            u32          UTC days of the day window, 0..kMaxDays
//   offset 60   reserved        4 bytes, zero
//   offset 64   counters        Counters (32)
//   offset 96   checkpoint_id   atomic u64   0 until the first `shmtool dump --marks`
//                                            draws it (random, CAS from 0): names this
//                                            segment in a marks file, so a delta checkpoint
//                                            is never taken against the markers of another
//                                            segment (one restored or recreated since);
//                                            builds that do not know it leave it zero
//   offset 104  frozen_by       atomic u64   LockWord (shm/owner.h) of the grow step that froze
//                                            writes while it copies the segment; 0 = writable
//   offset 112  superseded      atomic u32   1 once a larger segment replaced this one under
//                                            its name (shm/grow.h); never cleared
//   offset 116  reserved        12 bytes, zero
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
  std::uint32_t days;
  std::uint8_t reserved0[4];
  Counters counters;
  std::atomic<std::uint64_t> checkpoint_id;
  std::atomic<std::uint64_t> frozen_by;
  std::atomic<std::uint32_t> superseded;
  std::uint8_t reserved1[12];
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
inline constexpr std::uint64_t segment_bytes(std::uint64_t capacity, int days) {
  return slots_offset(capacity) + capacity * slot_bytes(days);
}

// ---- keep the comments above honest -------------------------------------
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(std::atomic<std::int64_t>::is_always_lock_free);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<double>::is_always_lock_free);
static_assert(sizeof(std::atomic<std::uint32_t>) == 4 && sizeof(std::atomic<double>) == 8);

static_assert(std::atomic<std::uint16_t>::is_always_lock_free && std::atomic<float>::is_always_lock_free);
static_assert(sizeof(std::atomic<std::uint16_t>) == 2 && sizeof(std::atomic<float>) == 4);

static_assert(offsetof(MinuteBucket, count) == 4 && offsetof(MinuteBucket, max) == 8 &&
              offsetof(MinuteBucket, sum) == 16 && offsetof(MinuteBucket, seconds) == 32);
static_assert(sizeof(MinuteBucket) == 48 && alignof(MinuteBucket) == 8);
static_assert(offsetof(HourBucket, count) == 4 && offsetof(HourBucket, max) == 12 &&
              offsetof(HourBucket, reserved) == 20 && offsetof(HourBucket, sum) == 24 &&
              offsetof(HourBucket, minutes) == 40);
static_assert(sizeof(HourBucket) == 56 && alignof(HourBucket) == 8);
static_assert(offsetof(DayBucket, count) == 8 && offsetof(DayBucket, max) == 16 && offsetof(DayBucket, sum) == 24);
static_assert(sizeof(DayBucket) == 40 && alignof(DayBucket) == 8);
static_assert(sizeof(MinuteValue) == sizeof(MinuteBucket) && offsetof(MinuteValue, seconds) == 32);
static_assert(sizeof(HourValue) == sizeof(HourBucket) && offsetof(HourValue, minutes) == 40);
static_assert(sizeof(DayValue) == sizeof(DayBucket) && offsetof(DayValue, sum) == 24);
static_assert(offsetof(Journal, day_pos) == 8 && offsetof(Journal, last_sample_before) == 16 &&
              offsetof(Journal, minute_before) == 24 && offsetof(Journal, hour_before) == 72 &&
              offsetof(Journal, day_before) == 128);
static_assert(sizeof(Journal) == 168);
static_assert(day_of_key(day_key(0xffff, 0xff'ffff, 0)) == 0xffff && hours_of_key(day_key(7, 5, 0xff'ffff), kCpu) == 5 &&
              hours_of_key(day_key(7, 5, 0xff'ffff), kRam) == 0xff'ffff);
static_assert(kMaxSampleTime / kSecondsPerDay == 0xffff);
static_assert(offsetof(Header, counters) == 64 && offsetof(Header, checkpoint_id) == 96 &&
              offsetof(Header, processes) == 128 && sizeof(Header) == 4096);
static_assert(offsetof(Slot, seq) == 4);
static_assert(offsetof(Slot, lock_owner) == 8);
static_assert(offsetof(Slot, name_length) == 16);
static_assert(offsetof(Slot, name_hash) == 24);
static_assert(offsetof(Slot, last_sample_unix) == 32);
static_assert(offsetof(Slot, name) == 40);
static_assert(offsetof(Slot, journal) == 296);
static_assert(offsetof(Slot, minutes) == 464);
static_assert(offsetof(Slot, hours) == 3344);
static_assert(sizeof(Slot) == 4688 && alignof(Slot) == 8);
static_assert(slot_bytes(0) == 4736 && slot_bytes(30) == 5888 && slot_bytes(kMaxDays) == 19328);
static_assert(kMaxNameLength <= kNameBytes);

static_assert(sizeof(ProcessEntry) == 16);
static_assert(sizeof(Counters) == 32);
static_assert(offsetof(Header, layout_version) == 8);
static_assert(offsetof(Header, capacity) == 16);
static_assert(offsetof(Header, slot_size) == 24);
static_assert(offsetof(Header, created_unix) == 32);
static_assert(offsetof(Header, slots_offset) == 40);
static_assert(offsetof(Header, pid_namespace) == 48);
static_assert(offsetof(Header, days) == 56);
static_assert(offsetof(Header, counters) == 64);
static_assert(offsetof(Header, frozen_by) == 104 && offsetof(Header, superseded) == 112);
static_assert(offsetof(Header, processes) == 128);
static_assert(sizeof(Header) == kPageBytes);
static_assert(sizeof(Fingerprint) == 4 && std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(slots_offset(1) == 2 * kPageBytes && slots_offset(1024) == 2 * kPageBytes &&
              slots_offset(1025) == 3 * kPageBytes);
static_assert(slot_bytes(30) + sizeof(Fingerprint) <= 6144, "docs/design.md, The segment: at most 6 KiB per server with 30 days");

}  // namespace servertrack::shm
