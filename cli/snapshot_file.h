// The `shmtool dump` snapshot file: a segment's published servers, versioned
// and checksummed, so an operator can carry the data across a reboot or to
// another host (`shmtool restore`).
//
// Format 4, all integers little-endian, floats IEEE-754 binary32 and 64:
//   header (80 bytes)
//     0  magic          "SRVTSNAP" (8 bytes)
//     8  format_version u32  kSnapshotFormatVersion
//     12 layout_version u32  shm::kLayoutVersion of the dumping build, for people:
//                            a reader accepts any (the records' format is this file's)
//     16 capacity       u64  slots of the dumped segment
//     24 server_count   u64  records that follow
//     32 created_unix   i64  creation time of the dumped segment
//     40 dumped_unix    i64  when the dump was taken; no bucket is newer
//     48 mode           u32  the segment's permission bits
//     52 record_size    u32  4496 + 40 x days (format 2: 2384, format 1: 2096)
//     56 days           u32  the dumped segment's days, 0..366 (formats 1, 2: reserved, zero)
//     60 kind           u32  0 full: every server; 1 delta: only the servers changed
//                            since the checkpoint `base` names (format 3: reserved, zero)
//     64 base           u64  a delta: the trailer (checksum) of the checkpoint it
//                            follows; a full one: zero
//     72 name_count     u64  a delta: the names that follow the records; full: zero
//   server_count records (record_size bytes each)
//     0    name_length u32 (1..253), 4 reserved zero bytes
//     8    name char[256], zero-padded
//     264  last_sample_unix i64
//     272  minute buckets 60 x shm::MinuteValue (48 bytes: shm/layout.h)
//     3152 hour buckets 24 x shm::HourValue (56 bytes)
//     4496 day buckets days x shm::DayValue (40 bytes), in ring order
//   a delta: name_count names, each a u8 length (1..253) and its bytes: every
//     server of the segment when it was taken, in slot order; a server named
//     here and not in the records is as the checkpoints before left it, one
//     not named here is gone (deleted, or its slot reused), and a restore
//     gives the servers slots in this order (as it does a full file's records)
//   trailer: FNV-1a-64 of every byte before it (u64)
// Format 3 is format 4 with a 64-byte header (no base, no names), always full.
// Formats 1 (layouts 1 to 3, names of at most 64 bytes) and 2 (layout 4) are
// read too: their records hold the name (64 or 256 bytes), last_sample_unix,
// and 60 minute then 24 hour buckets of {index u32, count u32, cpu_sum f64,
// ram_sum f64}, format 2 then 24 u32 retry marks. A bucket's count goes to
// both metrics (a sample then carried both), its peaks are its means (the
// least the peak was; the file has no other), a minute's count above
// shm::kMaxMinuteCount is cut to it with its sums scaled (the means kept),
// days are empty and the retry marks are dropped (a resend of a sample
// counted before may count once more).
//
// encode_snapshot() and decode_snapshot() are pure functions of their
// arguments (any thread). decode_snapshot() never trusts its input: it is
// the only way a file's bytes reach a segment, and a fuzz target's entry.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "shm/segment.h"

namespace servertrack::cli {

inline constexpr std::uint32_t kSnapshotFormatVersion = 4;
inline constexpr std::size_t kSnapshotHeaderSize = 80;
inline constexpr std::size_t kSnapshotFormat3HeaderSize = 64;
inline constexpr std::size_t kSnapshotTrailerSize = 8;

// The size of a format 3 or 4 record with `days` day buckets.
constexpr std::size_t snapshot_record_size(int days) {
  return 8 + shm::kNameBytes + 8 + shm::kMinuteBuckets * sizeof(shm::MinuteValue) +
         shm::kHourBuckets * sizeof(shm::HourValue) + static_cast<std::size_t>(days) * sizeof(shm::DayValue);
}
static_assert(snapshot_record_size(0) == 4496 && snapshot_record_size(30) == 5696);
inline constexpr std::size_t kSnapshotFormat1RecordSize = 2096;
inline constexpr std::size_t kSnapshotFormat2RecordSize = 2384;

// One server as a file holds it: a SlotCopy's data with only its own days
// (a SlotCopy has room for kMaxDays, too much to keep one per server).
struct SnapshotServer {
  std::string name;
  std::int64_t last_sample_unix = 0;
  shm::MinuteValue minutes[shm::kMinuteBuckets];
  shm::HourValue hours[shm::kHourBuckets];
  std::vector<shm::DayValue> days;
  // To and from the segment's copy of a slot.
  void to_copy(shm::SlotCopy& copy) const;
  static SnapshotServer from_copy(std::string name, const shm::SlotCopy& copy);
};

struct SnapshotFile {
  std::uint32_t layout_version = shm::kLayoutVersion;
  std::uint64_t capacity = 0;
  std::int64_t created_unix = 0;
  std::int64_t dumped_unix = 0;
  std::uint32_t mode = 0660;
  int days = 0;                  // formats 1 and 2: 0
  std::uint32_t format = kSnapshotFormatVersion;  // decode_snapshot(): the file's format
  std::vector<SnapshotServer> servers;
  // A delta (format 4): the checksum of the checkpoint it follows, and every
  // server's name in slot order (the servers above are the changed ones).
  bool delta = false;
  std::uint64_t base = 0;
  std::vector<std::string> names;
  std::uint64_t checksum = 0;  // decode_snapshot(): the file's trailer
};

std::vector<std::byte> encode_snapshot(const SnapshotFile& file);

// The file, or one sentence saying why it is refused: wrong magic, format or
// layout version, size, checksum, or any record that the segment could not
// hold (invalid or duplicate name, broken bucket invariants; shm/invariants.h);
// a delta also for a name that is invalid or twice in its names, or a record
// whose name is not among them.
std::variant<SnapshotFile, std::string> decode_snapshot(std::span<const std::byte> bytes);

// FNV-1a, 64 bits.
std::uint64_t fnv1a64(std::span<const std::byte> bytes) noexcept;

}  // namespace servertrack::cli
