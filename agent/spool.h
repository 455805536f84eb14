// The agent's spool: samples the appliance has not acknowledged yet, on disk,
// oldest first, so they survive the appliance being away and the agent being
// killed (SIGKILL, OOM, reboot).
//
// File `<dir>/<server name>`: a sequence of 32-byte SpoolRecords, nothing
// else. append() writes one record and fsyncs it before returning, so a
// sample the agent spooled is on disk. remove_oldest() and the overflow of a
// full spool write the remaining records to `<dir>/.rewrite`, fsync it,
// rename it over the file and fsync the directory: after a crash the file is
// either the old one or the new one. A torn or corrupt record (a crash or
// power loss in the middle of an append) is dropped when the spool is opened.
//
// The spool holds at most `capacity` samples (24 h of --interval); appending
// to a full spool drops the oldest. One process per directory: open() takes
// an exclusive flock on the directory and refuses a second agent.
// Main thread only. Memory: 24 bytes per sample held; every call that rewrites
// costs O(samples held) bytes of I/O (46 KB for 24 h of one-minute samples).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

#include "agent/sample.h"

namespace servertrack::agent {

// One sample on disk, in the host's byte order (a spool never leaves its host).
struct SpoolRecord {
  std::uint32_t magic;  // kSpoolRecordMagic; names the format and its version
  std::uint32_t crc;    // zlib crc32 of the 24 bytes from `time` to the end
  std::int64_t time;
  double cpu;
  double ram;
};
static_assert(sizeof(SpoolRecord) == 32);
static_assert(offsetof(SpoolRecord, crc) == 4);
static_assert(offsetof(SpoolRecord, time) == 8);
static_assert(offsetof(SpoolRecord, cpu) == 16);
static_assert(offsetof(SpoolRecord, ram) == 24);
inline constexpr std::uint32_t kSpoolRecordMagic = 0x31415453;  // "STA1" in little-endian

SpoolRecord spool_record(const Sample& sample) noexcept;

class Spool {
 public:
  // Opens or creates the spool of `server_name` in `dir` (created 0700 when
  // missing) and loads it. Throws std::system_error naming the path when the
  // directory or file cannot be used or another agent holds the directory.
  Spool(const std::filesystem::path& dir, std::string_view server_name, std::size_t capacity);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  std::size_t size() const noexcept { return samples_.size(); }
  bool empty() const noexcept { return samples_.empty(); }
  // Records found damaged and dropped when the spool was opened.
  std::size_t dropped_when_opened() const noexcept { return dropped_when_opened_; }

  // The `count` oldest samples (count <= size()); valid until the next change.
  std::span<const Sample> oldest(std::size_t count) const;

  // Adds the newest sample, on disk when it returns. Returns how many of the
  // oldest were dropped to make room (0 or 1).
  std::size_t append(const Sample& sample);

  // Forgets the `count` oldest samples (sent or refused), on disk when it returns.
  void remove_oldest(std::size_t count);

 private:
  void rewrite();

  std::filesystem::path dir_;
  std::filesystem::path file_;
  std::size_t capacity_;
  int dir_fd_ = -1;   // held open: the flock and the fsync after a rename
  int file_fd_ = -1;  // O_APPEND
  std::vector<Sample> samples_;
  std::size_t dropped_when_opened_ = 0;
};

}  // namespace servertrack::agent
