// `shmtool restore FILE`: rebuild a segment from a snapshot file. The whole
// file is validated first; the data goes into a fresh segment under a
// temporary name that is renamed over the target in one step, so the target
// is either untouched or fully restored.
#include <fcntl.h>
#include <fmt/core.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "cli/command.h"
#include "cli/file_io.h"
#include "common/defaults.h"
#include "cli/format.h"
#include "cli/processes.h"
#include "cli/snapshot_file.h"
#include "common/defaults.h"
#include "shm/segment.h"

namespace servertrack::cli {
namespace {

struct RestoreArgs {
  std::string segment{common::kDefaultSegment};
  std::string file;
  std::uint64_t capacity = 0;
  int days = -1;  // -1: the file's (formats 1 and 2: the default)
  bool force = false;
};

// Throws unless the target may be replaced: absent, or --force and unused.
void refuse_unless_replaceable(const RestoreArgs& args) {
  std::string users;
  try {
    users = describe_live(attach_read_only(args.segment));
  } catch (const shm::SegmentError& e) {
    if (e.kind() == shm::SegmentError::Kind::absent) return;
    if (e.kind() != shm::SegmentError::Kind::incompatible) throw;
  }
  if (!args.force) {
    throw ToolError(
        fmt::format("segment '{}' exists; `shmtool restore --force` replaces it (its data is lost)", args.segment));
  }
  if (!users.empty()) {
    throw ToolError(
        fmt::format("segment '{}' is in use by {}; stop them before restoring over it, or their "
                    "writes would go to the replaced segment",
                    args.segment, users));
  }
}

// Puts `data`'s days where a ring of `days` days holds them: where two fall
// on one position the newer stays (a ring keeps the newest days).
void reshape_days(shm::SlotCopy& data, int days) {
  std::vector<shm::DayValue> old(data.days, data.days + data.day_count);
  std::sort(old.begin(), old.end(), [](const shm::DayValue& a, const shm::DayValue& b) {
    return shm::day_of_key(a.key) < shm::day_of_key(b.key);
  });
  data.day_count = days;
  std::fill(data.days, data.days + days, shm::DayValue{});
  for (const shm::DayValue& d : old) {
    if (d.key != 0 && days > 0) data.days[shm::day_of_key(d.key) % static_cast<std::uint32_t>(days)] = d;
  }
}

void fill(shm::Segment& segment, const SnapshotFile& snapshot) {
  auto data = std::make_unique<shm::SlotCopy>();  // one scratch copy, reused
  for (const SnapshotServer& server : snapshot.servers) {
    server.to_copy(*data);
    if (data->day_count != segment.days()) reshape_days(*data, segment.days());
    const shm::Status status = segment.restore_server(server.name, *data);
    if (status == shm::Status::table_full) {
      throw ToolError("the new segment has no free slot for '" + server.name + "'");
    }
    if (status != shm::Status::ok) {
      throw ToolError(fmt::format("cannot restore '{}': {}", server.name, shm::describe(status)));
    }
  }
}

int restore(const RestoreArgs& args) {
  auto decoded = decode_snapshot(read_file(args.file));
  if (const auto* why = std::get_if<std::string>(&decoded)) {
    throw ToolError(fmt::format("{}: refused, nothing restored: {}", args.file, *why));
  }
  const SnapshotFile& snapshot = std::get<SnapshotFile>(decoded);
  const std::uint64_t capacity = args.capacity != 0 ? args.capacity : snapshot.capacity;
  const int days = args.days >= 0 ? args.days : snapshot.format >= 3 ? snapshot.days : common::kDefaultDays;
  if (capacity < snapshot.servers.size()) {
    throw ToolError(
        fmt::format("--capacity {} cannot hold the snapshot's {} servers", capacity, snapshot.servers.size()),
        kExitUsage);
  }
  refuse_unless_replaceable(args);
  const std::string temporary = fmt::format("{}.restore-{}", args.segment, ::getpid());
  try {
    shm::Segment segment =
        shm::Segment::create({temporary, capacity, days, static_cast<mode_t>(snapshot.mode), snapshot.created_unix});
    fill(segment, snapshot);
    const std::string from = shm::Segment::path_of(temporary);
    const std::string to = shm::Segment::path_of(args.segment);
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), args.force ? 0 : RENAME_NOREPLACE) != 0) {
      throw ToolError(fmt::format("cannot move the restored segment to {}: {}", to, std::strerror(errno)));
    }
  } catch (...) {
    shm::Segment::remove(temporary);
    throw;
  }
  fmt::print("restored {} servers from {} (dumped {}, snapshot format {}) into segment '{}' of capacity {} with {} "
             "days{}\n",
             snapshot.servers.size(), args.file, utc_time(snapshot.dumped_unix), snapshot.format, args.segment,
             capacity, days,
             snapshot.format < kSnapshotFormatVersion
                 ? "; converted from the older format: peaks are the means, no days, no retry marks"
                 : "");
  return kExitOk;
}

}  // namespace

void add_restore(CLI::App& app, Action& selected) {
  auto [command, args] = add_command<RestoreArgs>(
      app, selected, "restore",
      "Rebuild the segment from a `shmtool dump` FILE. Refuses a file of another layout version, "
      "with a bad checksum or any invalid record, and never leaves a half-restored segment.",
      restore);
  command->add_option("file", args->file, "the snapshot file to read")->required();
  command->add_option("--capacity", args->capacity, "slots of the new segment (default: the dumped one's)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 32));
  command->add_option("--days", args->days,
                      "UTC days of the new segment's day window (default: the dumped one's; "
                      "for a file of format 1 or 2, " + std::to_string(common::kDefaultDays) + ")")
      ->check(CLI::Range(0, shm::kMaxDays));
  command->add_flag("--force", args->force, "replace an existing segment (refused while workers are attached)");
}

}  // namespace servertrack::cli
