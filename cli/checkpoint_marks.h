// The change markers a checkpoint leaves for the next one (`shmtool dump
// --marks`): which slot held what when it was taken, so that the next dump
// can be a delta, writing only the servers whose slot changed since
// (docs/design.md, "The segment", the snapshot file). Advisory: a marks file
// that is missing, damaged or of another segment makes the next checkpoint a
// full one; restore never reads it.
//
// Format 1, little-endian:
//   0  magic       "SRVTMARK" (8 bytes)
//   8  version     u32  1
//   12 reserved    u32  zero
//   16 segment     u64  the segment's checkpoint_id() (shm/segment.h)
//   24 checkpoint  u64  the trailer (checksum) of the checkpoint file they describe
//   32 markers     u32 x the segment's capacity: slot i's change marker
//                  (ServerEntry::marker) when that checkpoint saved its server,
//                  kUnsaved (odd: no slot's stable marker) when it saved none
//   trailer: FNV-1a-64 of every byte before it (u64)
//
// encode_marks() and decode_marks() are pure (any thread); decode never
// trusts its input. 4 bytes a slot: 4 MiB at a million slots.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace servertrack::cli {

inline constexpr std::uint32_t kUnsaved = 1;

struct CheckpointMarks {
  std::uint64_t segment = 0;
  std::uint64_t checkpoint = 0;
  std::vector<std::uint32_t> markers;
};

std::vector<std::byte> encode_marks(const CheckpointMarks& marks);
// The marks, or why they are refused (magic, version, size, checksum).
std::variant<CheckpointMarks, std::string> decode_marks(std::span<const std::byte> bytes);

}  // namespace servertrack::cli
