#include <fmt/core.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <type_traits>
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

// What differs between the formats this build reads: the record.
struct RecordFormat {
  std::uint32_t version;
  std::size_t name_bytes;
  std::size_t record_size;
};

template <class Value>
void take_ring(Cursor& in, std::span<Value> ring) {
  for (Value& b : ring) b = in.take<Value>();
}

// A format 1 or 2 bucket, {index, count, cpu_sum, ram_sum}, as the count,
// sums and peaks of both metrics (snapshot_file.h says how).
template <class Value>
Value take_old_bucket(Cursor& in, std::uint32_t max_count) {
  Value v{};
  v.index = in.take<std::uint32_t>();
  const auto count = in.take<std::uint32_t>();
  const double sums[shm::kMetrics] = {in.take<double>(), in.take<double>()};
  const std::uint32_t kept = std::min(count, max_count);
  for (int m = 0; m < shm::kMetrics; ++m) {
    v.count[m] = static_cast<std::remove_reference_t<decltype(v.count[m])>>(kept);
    v.sum[m] = kept == count ? sums[m] : sums[m] / count * kept;
    v.max[m] = count > 0 ? static_cast<float>(sums[m] / count) : 0.0f;
  }
  return v;
}

bool all_zero(std::span<const std::byte> bytes) {
  for (const std::byte b : bytes) {
    if (b != std::byte{0}) return false;
  }
  return true;
}

// The record's server, or why it is refused.
std::variant<SnapshotServer, std::string> take_server(Cursor& in, const RecordFormat& format, int days,
                                                     std::int64_t dumped_unix, shm::SlotCopy& data) {
  const auto length = in.take<std::uint32_t>();
  const auto reserved = in.take<std::uint32_t>();
  const auto name_bytes = in.take_bytes(format.name_bytes);
  SnapshotServer server{};
  server.last_sample_unix = in.take<std::int64_t>();
  if (format.version >= 3) {
    take_ring(in, std::span<shm::MinuteValue>(server.minutes));
    take_ring(in, std::span<shm::HourValue>(server.hours));
    server.days.resize(static_cast<std::size_t>(days));
    take_ring(in, std::span<shm::DayValue>(server.days));
  } else {
    for (auto& b : server.minutes) b = take_old_bucket<shm::MinuteValue>(in, shm::kMaxMinuteCount);
    for (auto& b : server.hours) b = take_old_bucket<shm::HourValue>(in, UINT32_MAX);
    if (format.version == 2) in.take_bytes(shm::kHourBuckets * sizeof(std::uint32_t));  // the old retry marks
  }
  if (length < 1 || length > std::min(format.name_bytes, shm::kMaxNameLength) || reserved != 0 ||
      !all_zero(name_bytes.subspan(length))) {
    return fmt::format("its name field (length {}) is malformed", length);
  }
  server.name.assign(reinterpret_cast<const char*>(name_bytes.data()), length);
  if (!shm::is_valid_name(server.name)) return std::string("its name is not ") + shm::kNameRule;
  server.to_copy(data);
  const auto problems = data_problem_sentences(data, dumped_unix);
  if (!problems.empty()) return fmt::format("server '{}': {}", server.name, problems.front());
  return server;
}

// A delta's names section: every name valid and once, each record's among
// them. Refused with why.
std::optional<std::string> take_names(std::span<const std::byte> section, std::uint64_t count, SnapshotFile& file) {
  std::unordered_set<std::string> names;
  std::size_t at = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    if (at >= section.size()) return fmt::format("its names end after {} of {}", i, count);
    const auto length = static_cast<std::size_t>(section[at++]);
    if (length > section.size() - at) return fmt::format("name {} runs past the end of the file", i);
    std::string name(reinterpret_cast<const char*>(section.data() + at), length);
    at += length;
    if (!shm::is_valid_name(name)) return fmt::format("name {} is not {}", i, shm::kNameRule);
    if (!names.insert(name).second) return fmt::format("name {}: server '{}' appears twice", i, name);
    file.names.push_back(std::move(name));
  }
  if (at != section.size()) return fmt::format("{} bytes follow its {} names", section.size() - at, count);
  for (const SnapshotServer& server : file.servers) {
    if (!names.contains(server.name)) return fmt::format("server '{}' is not among its names", server.name);
  }
  return std::nullopt;
}

}  // namespace

std::variant<SnapshotFile, std::string> decode_snapshot(std::span<const std::byte> bytes) {
  if (bytes.size() < kSnapshotFormat3HeaderSize + kSnapshotTrailerSize ||
      std::memcmp(bytes.data(), "SRVTSNAP", 8) != 0) {
    return std::string("not a shmtool snapshot (no SRVTSNAP header)");
  }
  Cursor in(bytes.subspan(8));
  SnapshotFile file;
  const auto version = in.take<std::uint32_t>();
  if (version < 1 || version > kSnapshotFormatVersion) {
    return fmt::format("snapshot format version {}, this shmtool reads versions 1 to {}", version,
                       kSnapshotFormatVersion);
  }
  const std::size_t minimum = (version >= 4 ? kSnapshotHeaderSize : kSnapshotFormat3HeaderSize) + kSnapshotTrailerSize;
  if (bytes.size() < minimum) return fmt::format("{} bytes: too short for a format {} header", bytes.size(), version);
  file.format = version;
  file.layout_version = in.take<std::uint32_t>();  // who wrote it; the records' format is the file's own
  std::memcpy(&file.checksum, bytes.data() + bytes.size() - kSnapshotTrailerSize, sizeof file.checksum);
  if (file.checksum != fnv1a64(bytes.first(bytes.size() - kSnapshotTrailerSize))) {
    return std::string("checksum mismatch: the file is damaged or truncated");
  }
  file.capacity = in.take<std::uint64_t>();
  const auto count = in.take<std::uint64_t>();
  file.created_unix = in.take<std::int64_t>();
  file.dumped_unix = in.take<std::int64_t>();
  file.mode = in.take<std::uint32_t>();
  const auto record_size = in.take<std::uint32_t>();
  const auto days = in.take<std::uint32_t>();
  const auto kind = in.take<std::uint32_t>();  // formats 1 to 3: reserved
  const std::uint64_t base = version >= 4 ? in.take<std::uint64_t>() : 0;
  const std::uint64_t name_count = version >= 4 ? in.take<std::uint64_t>() : 0;
  if (days > static_cast<std::uint32_t>(shm::kMaxDays) || (version < 3 && days != 0)) {
    return fmt::format("it keeps {} days; a segment keeps at most {}", days, shm::kMaxDays);
  }
  file.days = static_cast<int>(days);
  file.delta = version >= 4 && kind == 1;
  if (version < 4 ? kind != 0 : kind > 1 || (!file.delta && (base != 0 || name_count != 0))) {
    return fmt::format("kind {}, base {:016x} and {} names are no snapshot's", kind, base, name_count);
  }
  file.base = base;
  const RecordFormat format = version == 1   ? RecordFormat{1, 64, kSnapshotFormat1RecordSize}
                              : version == 2 ? RecordFormat{2, shm::kNameBytes, kSnapshotFormat2RecordSize}
                                             : RecordFormat{version, shm::kNameBytes, snapshot_record_size(file.days)};
  const std::size_t body_bytes = bytes.size() - minimum;
  const std::size_t records_bytes = file.delta && count <= body_bytes / format.record_size
                                        ? count * format.record_size
                                        : body_bytes;
  if (record_size != format.record_size || count != records_bytes / format.record_size ||
      records_bytes % format.record_size != 0) {
    return fmt::format("header says {} records of {} bytes, but the file holds {} bytes of records", count, record_size,
                       records_bytes);
  }
  if (file.capacity < 1 || file.capacity > (std::uint64_t{1} << 32) || count > file.capacity ||
      name_count > file.capacity) {
    return fmt::format("capacity {} cannot hold its {} servers", file.capacity, std::max(count, name_count));
  }
  if (file.mode > 0777 || (file.mode & 0002) != 0 || (file.mode & 0600) != 0600) {
    return fmt::format("mode {:04o} is not a permission shmtool creates", file.mode);
  }
  if (file.created_unix < 0 || file.dumped_unix < 0) return std::string("negative creation or dump time");
  std::unordered_set<std::string> names;
  file.servers.reserve(count);
  auto data = std::make_unique<shm::SlotCopy>();  // one scratch copy for the checks
  for (std::uint64_t i = 0; i < count; ++i) {
    auto server = take_server(in, format, file.days, file.dumped_unix, *data);
    if (auto* why = std::get_if<std::string>(&server)) return fmt::format("record {}: {}", i, *why);
    auto& s = std::get<SnapshotServer>(server);
    if (!names.insert(s.name).second) return fmt::format("record {}: server '{}' appears twice", i, s.name);
    file.servers.push_back(std::move(s));
  }
  if (file.delta) {
    const auto section = bytes.subspan(minimum - kSnapshotTrailerSize + records_bytes, body_bytes - records_bytes);
    if (const auto why = take_names(section, name_count, file)) return "delta: " + *why;
  }
  return file;
}

}  // namespace servertrack::cli
