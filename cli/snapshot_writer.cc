#include <algorithm>
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

// The buckets' plain copies have no padding (their sizes are the sums of their
// fields: static_asserts in shm/layout.h): their bytes are the format.
template <class Value>
void put_ring(std::vector<std::byte>& out, std::span<const Value> ring) {
  for (const Value& b : ring) put(out, b);
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

void SnapshotServer::to_copy(shm::SlotCopy& copy) const {
  std::copy(std::begin(minutes), std::end(minutes), copy.minutes);
  std::copy(std::begin(hours), std::end(hours), copy.hours);
  copy.day_count = static_cast<int>(days.size());
  std::copy(days.begin(), days.end(), copy.days);
  copy.last_sample_unix = last_sample_unix;
  copy.name_length = static_cast<std::uint32_t>(std::min(name.size(), sizeof copy.name));
  std::memcpy(copy.name, name.data(), copy.name_length);
}

SnapshotServer SnapshotServer::from_copy(std::string name, const shm::SlotCopy& copy) {
  SnapshotServer server{std::move(name), copy.last_sample_unix, {}, {}, {}};
  std::copy(std::begin(copy.minutes), std::end(copy.minutes), server.minutes);
  std::copy(std::begin(copy.hours), std::end(copy.hours), server.hours);
  server.days.assign(copy.days, copy.days + copy.day_count);
  return server;
}

std::vector<std::byte> encode_snapshot(const SnapshotFile& file) {
  std::vector<std::byte> out;
  const std::size_t record_size = snapshot_record_size(file.days);
  out.reserve(kSnapshotHeaderSize + file.servers.size() * record_size + kSnapshotTrailerSize);
  for (const char c : std::string_view("SRVTSNAP")) out.push_back(static_cast<std::byte>(c));
  put(out, kSnapshotFormatVersion);
  put(out, file.layout_version);
  put(out, file.capacity);
  put(out, std::uint64_t{file.servers.size()});
  put(out, file.created_unix);
  put(out, file.dumped_unix);
  put(out, file.mode);
  put(out, static_cast<std::uint32_t>(record_size));
  put(out, static_cast<std::uint32_t>(file.days));
  put(out, std::uint32_t{file.delta ? 1u : 0u});
  put(out, file.delta ? file.base : std::uint64_t{0});
  put(out, std::uint64_t{file.delta ? file.names.size() : 0});
  for (const SnapshotServer& server : file.servers) {
    put(out, static_cast<std::uint32_t>(server.name.size()));
    put(out, std::uint32_t{0});
    char name[shm::kNameBytes] = {};
    std::memcpy(name, server.name.data(), std::min(server.name.size(), sizeof name));
    for (const char c : name) out.push_back(static_cast<std::byte>(c));
    put(out, server.last_sample_unix);
    put_ring(out, std::span<const shm::MinuteValue>(server.minutes));
    put_ring(out, std::span<const shm::HourValue>(server.hours));
    std::vector<shm::DayValue> days = server.days;
    days.resize(static_cast<std::size_t>(file.days));  // every record has the file's days
    put_ring(out, std::span<const shm::DayValue>(days));
  }
  if (file.delta) {
    for (const std::string& name : file.names) {
      out.push_back(static_cast<std::byte>(name.size()));
      for (const char c : name) out.push_back(static_cast<std::byte>(c));
    }
  }
  put(out, fnv1a64(out));
  return out;
}

}  // namespace servertrack::cli
