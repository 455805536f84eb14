#include <bit>
#include <cstring>

#include "cli/snapshot_file.h"

namespace servertrack::cli {
namespace {

static_assert(std::endian::native == std::endian::little, "the snapshot format is little-endian");

template <class T>
void put(std::vector<std::byte>& out, T value) {
  const auto at = out.size();
  out.resize(at + sizeof(T));
  std::memcpy(out.data() + at, &value, sizeof(T));
}

void put_ring(std::vector<std::byte>& out, std::span<const shm::BucketValue> ring) {
  for (const shm::BucketValue& b : ring) {
    put(out, b.index);
    put(out, b.count);
    put(out, b.cpu_sum);
    put(out, b.ram_sum);
  }
}

}  // namespace

std::uint64_t fnv1a64(std::span<const std::byte> bytes) noexcept {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (const std::byte b : bytes) {
    hash ^= static_cast<std::uint8_t>(b);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

std::vector<std::byte> encode_snapshot(const SnapshotFile& file) {
  std::vector<std::byte> out;
  out.reserve(kSnapshotHeaderSize + file.servers.size() * kSnapshotRecordSize + kSnapshotTrailerSize);
  for (const char c : std::string_view("SRVTSNAP")) out.push_back(static_cast<std::byte>(c));
  put(out, kSnapshotFormatVersion);
  put(out, file.layout_version);
  put(out, file.capacity);
  put(out, std::uint64_t{file.servers.size()});
  put(out, file.created_unix);
  put(out, file.dumped_unix);
  put(out, file.mode);
  put(out, static_cast<std::uint32_t>(kSnapshotRecordSize));
  put(out, std::uint64_t{0});
  for (const SnapshotServer& server : file.servers) {
    put(out, static_cast<std::uint32_t>(server.name.size()));
    put(out, std::uint32_t{0});
    char name[shm::kNameBytes] = {};
    std::memcpy(name, server.name.data(), std::min(server.name.size(), sizeof name));
    for (const char c : name) out.push_back(static_cast<std::byte>(c));
    put(out, server.data.last_sample_unix);
    put_ring(out, server.data.minutes);
    put_ring(out, server.data.hours);
    for (const std::uint32_t mark : server.data.hour_newest) put(out, mark);
  }
  put(out, fnv1a64(out));
  return out;
}

}  // namespace servertrack::cli
