// `shmtool dump FILE`: write the segment's sound servers to a snapshot file
// (cli/snapshot_file.h), listing the ones it skipped (exit kExitPartial).
// Read-only on the segment; with --repair (the supervisor's checkpoints) it
// attaches read-write so that a server a writer killed mid-write left unsound
// is repaired (its dead writer's lock taken over, the half write undone, as
// the next write would) and dumped rather than skipped. That is safe beside
// live workers: a live writer's lock is never taken.
#include <fmt/core.h>

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "cli/command.h"
#include "cli/file_io.h"
#include "cli/format.h"
#include "cli/invariants.h"
#include "cli/snapshot_file.h"
#include "common/clock.h"
#include "common/defaults.h"
#include "shm/name.h"
#include "shm/segment.h"

namespace servertrack::cli {
namespace {

struct DumpArgs {
  std::string segment{common::kDefaultSegment};
  std::string file;
  bool force = false;
  bool repair = false;
};

// A server left out of the dump, and why.
struct Skipped {
  std::string name;
  std::string why;
};

// Every server whose data is sound goes into the file; the others are listed
// in `skipped`, so one damaged slot never stops a backup of the rest. The
// names of servers repaired on the way (read-write only) go to `repaired`.
SnapshotFile take_snapshot(shm::Segment& segment, std::vector<Skipped>& skipped, std::vector<std::string>& repaired) {
  const shm::SegmentFacts facts = segment.facts();
  SnapshotFile file{shm::kLayoutVersion, segment.capacity(), facts.created_unix, 0, facts.mode, segment.days(),
                    kSnapshotFormatVersion, {}};
  auto data = std::make_unique<shm::SlotCopy>();  // one scratch copy, reused
  segment.for_each_server([&](const shm::ServerEntry& server) {
    std::string name(server.name);
    if (!shm::is_valid_name(name)) {
      skipped.push_back({name, "its name is damaged (`shmtool check` shows the slot)"});
      return;
    }
    const bool half_written = segment.left_mid_write(server.slot_index);
    if (segment.copy_slot(*server.slot, *data) != shm::Status::ok) {
      skipped.push_back({name,
                         "it was left mid-write by a writer that died (the next sample for it, any worker's "
                         "read of it, `shmtool dump --repair` or `shmtool check --repair` repairs it)"});
      return;
    }
    if (half_written && segment.access() == shm::Access::read_write) repaired.push_back(name);
    if (data->name_view() != name) return;  // deleted or reused meanwhile: gone
    // The clock read after the copy: a sample recorded just before it is not "from the future".
    if (const auto problems = data_problem_sentences(*data, common::wall_clock_unix_seconds()); !problems.empty()) {
      skipped.push_back({name, problems.front()});
      return;
    }
    file.servers.push_back(SnapshotServer::from_copy(std::move(name), *data));
  });
  // After the walk: a sample recorded while it ran is never newer than the dump.
  file.dumped_unix = common::wall_clock_unix_seconds();
  return file;
}

int dump(const DumpArgs& args) {
  shm::Segment segment = args.repair ? shm::Segment::attach({.name = args.segment, .access = shm::Access::read_write})
                                     : attach_read_only(args.segment);
  std::vector<Skipped> skipped;
  std::vector<std::string> repaired;
  const SnapshotFile snapshot = take_snapshot(segment, skipped, repaired);
  const auto bytes = encode_snapshot(snapshot);
  // Dump only what restore will accept.
  if (const auto decoded = decode_snapshot(bytes); std::holds_alternative<std::string>(decoded)) {
    throw ToolError(fmt::format("segment '{}' could not be dumped: {}; `shmtool check --segment {}` "
                                "lists every problem",
                                args.segment, std::get<std::string>(decoded), args.segment));
  }
  write_file_atomically(args.file, bytes, args.force);
  fmt::print("dumped {} servers of segment '{}' to {} ({})\n", snapshot.servers.size(), args.segment, args.file,
             human_bytes(bytes.size()));
  for (const std::string& name : repaired) {
    fmt::print("repaired server '{}': its writer died mid-write; the half-written sample was undone\n", name);
  }
  if (skipped.empty()) return kExitOk;
  for (const Skipped& s : skipped) fmt::print("skipped server '{}': {}\n", s.name, s.why);
  fmt::print(stderr,
             "shmtool: {} server{} of segment '{}' not dumped (listed above); `shmtool check --segment {}` "
             "shows every problem\n",
             skipped.size(), skipped.size() == 1 ? "" : "s", args.segment, args.segment);
  return kExitPartial;
}

}  // namespace

void add_dump(CLI::App& app, Action& selected) {
  auto [command, args] =
      add_command<DumpArgs>(app, selected, "dump",
                            "Write every server's buckets to FILE: a versioned, checksummed snapshot that `shmtool "
                            "restore` reads back, on this host or another. A server whose data fails a check is "
                            "skipped and listed, and the rest are written: exit 0 when every server was "
                            "dumped, 3 when some were skipped. Read-only on the segment unless --repair.",
                            dump);
  command->add_option("file", args->file, "the snapshot file to write")->required();
  command->add_flag("--force", args->force, "overwrite FILE if it exists");
  command->add_flag("--repair", args->repair,
                    "repair a server a writer killed mid-write left unsound (as its next write would; never "
                    "a live writer's) and dump it rather than skip it");
}

}  // namespace servertrack::cli
