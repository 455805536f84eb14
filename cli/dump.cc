// `shmtool dump FILE`: write the segment's sound servers to a snapshot file
// (cli/snapshot_file.h), listing the ones it skipped (exit kExitPartial).
// Read-only on the segment; with --repair (the supervisor's checkpoints) it
// attaches read-write so that a server a writer killed mid-write left unsound
// is repaired (its dead writer's lock taken over, the half write undone, as
// the next write would) and dumped rather than skipped. That is safe beside
// live workers: a live writer's lock is never taken.
//
// With --marks it also writes the slots' change markers after the file
// (cli/checkpoint_marks.h), and with --delta the file is a delta of the
// checkpoint those markers describe: only the servers whose slot changed
// since, and every server's name (cli/snapshot_file.h). The walk reads every
// slot's marker (O(capacity) words) but copies and writes only the changed.
#include <fmt/core.h>

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "cli/checkpoint_marks.h"
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
  std::string marks;  // --marks
  bool delta = false;
};

// A server left out of the dump, and why.
struct Skipped {
  std::string name;
  std::string why;
};

// Every server whose data is sound goes into the file; the others are listed
// in `skipped`, so one damaged slot never stops a backup of the rest. The
// names of servers repaired on the way (read-write only) go to `repaired`.
// With `since` (a delta) a server whose marker is the one `since` holds is
// named but not copied, and one skipped keeps the chain's older copy (named,
// its old marker kept so that the next dump tries again). `markers` gets
// each slot's marker as the file leaves it (kUnsaved: no server saved).
SnapshotFile take_snapshot(shm::Segment& segment, const CheckpointMarks* since, std::vector<Skipped>& skipped,
                           std::vector<std::string>& repaired, std::vector<std::uint32_t>& markers) {
  const shm::SegmentFacts facts = segment.facts();
  SnapshotFile file;
  file.capacity = segment.capacity();
  file.created_unix = facts.created_unix;
  file.mode = facts.mode;
  file.days = segment.days();
  file.delta = since != nullptr;
  if (since) file.base = since->checkpoint;
  markers.assign(segment.capacity(), kUnsaved);
  auto data = std::make_unique<shm::SlotCopy>();  // one scratch copy, reused
  segment.for_each_server([&](const shm::ServerEntry& server) {
    std::string name(server.name);
    if (!shm::is_valid_name(name)) {
      skipped.push_back({name, "its name is damaged (`shmtool check` shows the slot)"});
      return;
    }
    const std::uint32_t before = since ? since->markers[server.slot_index] : kUnsaved;
    if (since && server.marker == before && before != kUnsaved) {
      markers[server.slot_index] = before;
      file.names.push_back(std::move(name));
      return;
    }
    const auto skip = [&](std::string why) {
      skipped.push_back({name, std::move(why)});
      markers[server.slot_index] = before;
      if (since) file.names.push_back(name);
    };
    const bool half_written = segment.left_mid_write(server.slot_index);
    if (segment.copy_slot(*server.slot, *data) != shm::Status::ok) {
      skip("it was left mid-write by a writer that died (the next sample for it, any worker's "
           "read of it, `shmtool dump --repair` or `shmtool check --repair` repairs it)");
      return;
    }
    if (half_written && segment.access() == shm::Access::read_write) repaired.push_back(name);
    if (data->name_view() != name) return;  // deleted or reused meanwhile: gone
    // The clock read after the copy: a sample recorded just before it is not "from the future".
    if (const auto problems = data_problem_sentences(*data, common::wall_clock_unix_seconds()); !problems.empty()) {
      skip(problems.front());
      return;
    }
    markers[server.slot_index] = server.marker;
    if (since) file.names.push_back(name);
    file.servers.push_back(SnapshotServer::from_copy(std::move(name), *data));
  });
  // After the walk: a sample recorded while it ran is never newer than the dump.
  file.dumped_unix = common::wall_clock_unix_seconds();
  return file;
}

// The markers of the checkpoint a delta follows; kExitNoDelta when they are
// not this segment's (missing, damaged, another segment, another capacity).
CheckpointMarks read_marks(const DumpArgs& args, shm::Segment& segment) {
  const auto refuse = [&](const std::string& why) {
    return ToolError(fmt::format("no delta of segment '{}' written: {}; a full dump (without --delta) writes new "
                                 "marks",
                                 args.segment, why),
                     kExitNoDelta);
  };
  std::vector<std::byte> bytes;
  try {
    bytes = read_file(args.marks);
  } catch (const ToolError& e) {
    throw refuse(e.what());
  }
  auto decoded = decode_marks(bytes);
  if (const auto* why = std::get_if<std::string>(&decoded)) throw refuse(args.marks + ": " + *why);
  auto& marks = std::get<CheckpointMarks>(decoded);
  if (marks.segment != segment.checkpoint_id()) {
    throw refuse(args.marks + " holds another segment's markers (it was created or restored since)");
  }
  if (marks.markers.size() != segment.capacity()) {
    throw refuse(fmt::format("{} holds {} slots' markers, the segment has {}", args.marks, marks.markers.size(),
                             segment.capacity()));
  }
  return std::move(marks);
}

int dump(const DumpArgs& args) {
  if (args.delta && args.marks.empty()) throw ToolError("--delta needs --marks", kExitUsage);
  shm::Segment segment = args.repair ? shm::Segment::attach({.name = args.segment, .access = shm::Access::read_write})
                                     : attach_read_only(args.segment);
  if (!args.marks.empty() && segment.checkpoint_id() == 0) {
    throw ToolError("--marks needs a segment whose checkpoint identity is drawn: add --repair (read-write)");
  }
  std::optional<CheckpointMarks> since;
  if (args.delta) since = read_marks(args, segment);
  std::vector<Skipped> skipped;
  std::vector<std::string> repaired;
  std::vector<std::uint32_t> markers;
  const SnapshotFile snapshot = take_snapshot(segment, since ? &*since : nullptr, skipped, repaired, markers);
  const auto bytes = encode_snapshot(snapshot);
  // Dump only what restore will accept.
  if (const auto decoded = decode_snapshot(bytes); std::holds_alternative<std::string>(decoded)) {
    throw ToolError(fmt::format("segment '{}' could not be dumped: {}; `shmtool check --segment {}` "
                                "lists every problem",
                                args.segment, std::get<std::string>(decoded), args.segment));
  }
  write_file_atomically(args.file, bytes, args.force);
  if (!args.marks.empty()) {
    std::uint64_t checksum;
    std::memcpy(&checksum, bytes.data() + bytes.size() - sizeof checksum, sizeof checksum);
    write_file_atomically(args.marks, encode_marks({segment.checkpoint_id(), checksum, std::move(markers)}), true);
  }
  if (snapshot.delta) {
    fmt::print("dumped a delta of {} changed servers (of {}) of segment '{}' to {} ({})\n", snapshot.servers.size(),
               snapshot.names.size(), args.segment, args.file, human_bytes(bytes.size()));
  } else {
    fmt::print("dumped {} servers of segment '{}' to {} ({})\n", snapshot.servers.size(), args.segment, args.file,
               human_bytes(bytes.size()));
  }
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
  command->add_option("--marks", args->marks,
                      "after FILE, write the slots' change markers to MARKS (with --repair), for a later "
                      "--delta");
  command->add_flag("--delta", args->delta,
                    "write only the servers whose slot changed since the dump whose markers MARKS holds (and "
                    "every server's name): a delta that `shmtool restore FULL DELTA...` applies; exit 4 when "
                    "MARKS is not this segment's");
}

}  // namespace servertrack::cli
