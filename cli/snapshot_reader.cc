#include <fmt/core.h>

#include <cstring>
#include <unordered_set>

#include "cli/invariants.h"
#include "cli/snapshot_file.h"
#include "shm/name.h"

namespace servertrack::cli {
namespace {

// Reads fixed-size little-endian fields from a span whose size was checked.
class Cursor {
 public:
  explicit Cursor(std::span<const std::byte> bytes) : bytes_(bytes) {}
  template <class T>
  T take() {
    T value;
    std::memcpy(&value, bytes_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return value;
  }
  std::span<const std::byte> take_bytes(std::size_t n) {
    const auto part = bytes_.subspan(at_, n);
    at_ += n;
    return part;
  }

 private:
  std::span<const std::byte> bytes_;
  std::size_t at_ = 0;
};

void take_ring(Cursor& in, std::span<shm::BucketValue> ring) {
  for (shm::BucketValue& b : ring) {
    b.index = in.take<std::uint32_t>();
    b.count = in.take<std::uint32_t>();
    b.cpu_sum = in.take<double>();
    b.ram_sum = in.take<double>();
  }
}

bool all_zero(std::span<const std::byte> bytes) {
  for (const std::byte b : bytes) {
    if (b != std::byte{0}) return false;
  }
  return true;
}

// The record's server, or why it is refused.
std::variant<SnapshotServer, std::string> take_server(Cursor& in, const SnapshotRecordFormat& format,
                                                     std::int64_t dumped_unix) {
  const auto length = in.take<std::uint32_t>();
  const auto reserved = in.take<std::uint32_t>();
  const auto name_bytes = in.take_bytes(format.name_bytes);
  SnapshotServer server{};
  server.data.last_sample_unix = in.take<std::int64_t>();
  take_ring(in, server.data.minutes);
  take_ring(in, server.data.hours);
  if (format.hour_newest) {
    for (std::uint32_t& mark : server.data.hour_newest) mark = in.take<std::uint32_t>();
  }
  if (length < 1 || length > std::min(format.name_bytes, shm::kMaxNameLength) || reserved != 0 ||
      !all_zero(name_bytes.subspan(length))) {
    return fmt::format("its name field (length {}) is malformed", length);
  }
  server.name.assign(reinterpret_cast<const char*>(name_bytes.data()), length);
  if (!shm::is_valid_name(server.name)) return std::string("its name is not ") + shm::kNameRule;
  const auto problems = data_problems(server.data, dumped_unix);
  if (!problems.empty()) return fmt::format("server '{}': {}", server.name, problems.front());
  return server;
}

}  // namespace

std::variant<SnapshotFile, std::string> decode_snapshot(std::span<const std::byte> bytes) {
  constexpr std::size_t kMinimum = kSnapshotHeaderSize + kSnapshotTrailerSize;
  if (bytes.size() < kMinimum || std::memcmp(bytes.data(), "SRVTSNAP", 8) != 0) {
    return std::string("not a shmtool snapshot (no SRVTSNAP header)");
  }
  Cursor in(bytes.subspan(8));
  SnapshotFile file;
  const auto version = in.take<std::uint32_t>();
  if (version != 1 && version != kSnapshotFormatVersion) {
    return fmt::format("snapshot format version {}, this shmtool reads versions 1 and {}", version,
                       kSnapshotFormatVersion);
  }
  const SnapshotRecordFormat& format = version == 1 ? kSnapshotFormat1 : kSnapshotFormat2;
  file.layout_version = in.take<std::uint32_t>();  // who wrote it; the records' format is the file's own
  std::uint64_t stored_checksum;
  std::memcpy(&stored_checksum, bytes.data() + bytes.size() - kSnapshotTrailerSize, sizeof stored_checksum);
  if (stored_checksum != fnv1a64(bytes.first(bytes.size() - kSnapshotTrailerSize))) {
    return std::string("checksum mismatch: the file is damaged or truncated");
  }
  file.capacity = in.take<std::uint64_t>();
  const auto count = in.take<std::uint64_t>();
  file.created_unix = in.take<std::int64_t>();
  file.dumped_unix = in.take<std::int64_t>();
  file.mode = in.take<std::uint32_t>();
  const auto record_size = in.take<std::uint32_t>();
  const auto reserved = in.take<std::uint64_t>();
  const std::size_t records_bytes = bytes.size() - kMinimum;
  if (record_size != format.record_size || reserved != 0 || count != records_bytes / format.record_size ||
      records_bytes % format.record_size != 0) {
    return fmt::format("header says {} records of {} bytes, but the file holds {} bytes of records", count, record_size,
                       records_bytes);
  }
  if (file.capacity < 1 || file.capacity > (std::uint64_t{1} << 32) || count > file.capacity) {
    return fmt::format("capacity {} cannot hold its {} servers", file.capacity, count);
  }
  if (file.mode > 0777 || (file.mode & 0002) != 0 || (file.mode & 0600) != 0600) {
    return fmt::format("mode {:04o} is not a permission shmtool creates", file.mode);
  }
  if (file.created_unix < 0 || file.dumped_unix < 0) return std::string("negative creation or dump time");
  std::unordered_set<std::string> names;
  file.servers.reserve(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    auto server = take_server(in, format, file.dumped_unix);
    if (auto* why = std::get_if<std::string>(&server)) return fmt::format("record {}: {}", i, *why);
    auto& s = std::get<SnapshotServer>(server);
    if (!names.insert(s.name).second) return fmt::format("record {}: server '{}' appears twice", i, s.name);
    file.servers.push_back(std::move(s));
  }
  return file;
}

}  // namespace servertrack::cli
