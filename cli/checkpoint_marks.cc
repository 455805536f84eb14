#include "cli/checkpoint_marks.h"

#include <fmt/core.h>

#include <cstring>

#include "cli/snapshot_file.h"

namespace servertrack::cli {
namespace {

constexpr std::size_t kHeaderSize = 32;
constexpr std::uint32_t kVersion = 1;

template <class T>
void put(std::vector<std::byte>& out, T value) {
  const auto at = out.size();
  out.resize(at + sizeof(T));
  std::memcpy(out.data() + at, &value, sizeof(T));
}

template <class T>
T get(std::span<const std::byte> bytes, std::size_t at) {
  T value;
  std::memcpy(&value, bytes.data() + at, sizeof(T));
  return value;
}

}  // namespace

std::vector<std::byte> encode_marks(const CheckpointMarks& marks) {
  std::vector<std::byte> out;
  out.reserve(kHeaderSize + marks.markers.size() * sizeof(std::uint32_t) + sizeof(std::uint64_t));
  for (const char c : std::string_view("SRVTMARK")) out.push_back(static_cast<std::byte>(c));
  put(out, kVersion);
  put(out, std::uint32_t{0});
  put(out, marks.segment);
  put(out, marks.checkpoint);
  const auto at = out.size();
  out.resize(at + marks.markers.size() * sizeof(std::uint32_t));
  std::memcpy(out.data() + at, marks.markers.data(), marks.markers.size() * sizeof(std::uint32_t));
  put(out, fnv1a64(out));
  return out;
}

std::variant<CheckpointMarks, std::string> decode_marks(std::span<const std::byte> bytes) {
  constexpr std::size_t kTrailer = sizeof(std::uint64_t);
  if (bytes.size() < kHeaderSize + kTrailer || std::memcmp(bytes.data(), "SRVTMARK", 8) != 0) {
    return std::string("not a marks file (no SRVTMARK header)");
  }
  if (const auto version = get<std::uint32_t>(bytes, 8); version != kVersion) {
    return fmt::format("marks format version {}, this shmtool reads {}", version, kVersion);
  }
  const std::size_t body = bytes.size() - kHeaderSize - kTrailer;
  if (get<std::uint64_t>(bytes, bytes.size() - kTrailer) != fnv1a64(bytes.first(bytes.size() - kTrailer)) ||
      body % sizeof(std::uint32_t) != 0) {
    return std::string("checksum mismatch: the marks file is damaged or truncated");
  }
  CheckpointMarks marks{get<std::uint64_t>(bytes, 16), get<std::uint64_t>(bytes, 24), {}};
  marks.markers.resize(body / sizeof(std::uint32_t));
  std::memcpy(marks.markers.data(), bytes.data() + kHeaderSize, body);
  return marks;
}

}  // namespace servertrack::cli
