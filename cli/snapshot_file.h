// The `shmtool dump` snapshot file: a segment's published servers, versioned
// and checksummed, so an operator can carry the data across a reboot or to
// another host (`shmtool restore`).
//
// Format, all integers little-endian, doubles IEEE-754 binary64:
//   header (64 bytes)
//     0  magic          "SRVTSNAP" (8 bytes)
//     8  format_version u32  kSnapshotFormatVersion
//     12 layout_version u32  shm::kLayoutVersion of the dumping build, for people:
//                            a reader accepts any (the records' format is this file's)
//     16 capacity       u64  slots of the dumped segment
//     24 server_count   u64  records that follow
//     32 created_unix   i64  creation time of the dumped segment
//     40 dumped_unix    i64  when the dump was taken; no bucket is newer
//     48 mode           u32  the segment's permission bits
//     52 record_size    u32  2384 (format 1: 2096)
//     56 reserved       8 bytes, zero
//   server_count records (2384 bytes each)
//     0  name_length u32 (1..253), 4 reserved zero bytes
//     8  name char[256], zero-padded
//     264 last_sample_unix i64
//     272 minute buckets 60 x {index u32, count u32, cpu_sum f64, ram_sum f64}
//     1712 hour buckets 24 x the same
//     2288 hour_newest 24 x u32: the retry marks of the hour buckets (shm/layout.h)
//   trailer: FNV-1a-64 of every byte before it (u64)
// Format 1 (layouts 1 and 2, names of at most 64 bytes) is read too: its
// records are the same but for a 64-byte name field and no hour_newest
// (read as 0: no retry mark).
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

inline constexpr std::uint32_t kSnapshotFormatVersion = 2;
inline constexpr std::size_t kSnapshotHeaderSize = 64;
inline constexpr std::size_t kSnapshotTrailerSize = 8;

// What differs between the formats this build reads: the record.
struct SnapshotRecordFormat {
  std::size_t name_bytes;
  bool hour_newest;
  std::size_t record_size;
};
inline constexpr SnapshotRecordFormat kSnapshotFormat1{64, false, 2096};
inline constexpr SnapshotRecordFormat kSnapshotFormat2{shm::kNameBytes, true, 2384};
inline constexpr std::size_t kSnapshotRecordSize = kSnapshotFormat2.record_size;

struct SnapshotServer {
  std::string name;
  shm::SlotCopy data;
};

struct SnapshotFile {
  std::uint32_t layout_version = shm::kLayoutVersion;
  std::uint64_t capacity = 0;
  std::int64_t created_unix = 0;
  std::int64_t dumped_unix = 0;
  std::uint32_t mode = 0660;
  std::vector<SnapshotServer> servers;
};

std::vector<std::byte> encode_snapshot(const SnapshotFile& file);

// The file, or one sentence saying why it is refused: wrong magic, format or
// layout version, size, checksum, or any record that the segment could not
// hold (invalid or duplicate name, broken bucket invariants; shm/invariants.h).
std::variant<SnapshotFile, std::string> decode_snapshot(std::span<const std::byte> bytes);

// FNV-1a, 64 bits.
std::uint64_t fnv1a64(std::span<const std::byte> bytes) noexcept;

}  // namespace servertrack::cli
