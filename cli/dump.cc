// `shmtool dump FILE`: write the segment's servers to a snapshot file
// (cli/snapshot_file.h). Read-only on the segment.
#include <fmt/core.h>

#include <string>
#include <variant>

#include "cli/command.h"
#include "cli/file_io.h"
#include "cli/format.h"
#include "cli/snapshot_file.h"
#include "shm/segment.h"

namespace servertrack::cli {
namespace {

struct DumpArgs {
  std::string segment = "servertrack";
  std::string file;
  bool force = false;
};

SnapshotFile take_snapshot(shm::Segment& segment) {
  const shm::Header& h = segment.header();
  SnapshotFile file{shm::kLayoutVersion, h.capacity, h.created_unix, 0, h.mode, {}};
  segment.for_each_server([&](const shm::ServerEntry& server) {
    SnapshotServer& copy = file.servers.emplace_back(SnapshotServer{std::string(server.name), {}});
    if (segment.copy_slot(*server.slot, copy.data) != shm::Status::ok) {
      throw ToolError(
          fmt::format("server '{}' was left mid-write by a writer that died; the next sample "
                      "for it repairs it (or any worker's read of it); dump again then",
                      copy.name));
    }
  });
  // After the walk: a sample recorded while it ran is never newer than the dump.
  file.dumped_unix = unix_now();
  return file;
}

int dump(const DumpArgs& args) {
  shm::Segment segment = attach_read_only(args.segment);
  const SnapshotFile snapshot = take_snapshot(segment);
  const auto bytes = encode_snapshot(snapshot);
  // Dump only what restore will accept.
  if (const auto decoded = decode_snapshot(bytes); std::holds_alternative<std::string>(decoded)) {
    throw ToolError(
        fmt::format("segment '{}' fails a check, not dumped: {}; `shmtool check --segment {}` "
                    "lists every problem",
                    args.segment, std::get<std::string>(decoded), args.segment));
  }
  write_file_atomically(args.file, bytes, args.force);
  fmt::print("dumped {} servers of segment '{}' to {} ({})\n", snapshot.servers.size(), args.segment, args.file,
             human_bytes(bytes.size()));
  return kExitOk;
}

}  // namespace

void add_dump(CLI::App& app, Action& selected) {
  auto [command, args] =
      add_command<DumpArgs>(app, selected, "dump",
                            "Write every server's buckets to FILE: a versioned, checksummed snapshot that `shmtool "
                            "restore` reads back, on this host or another. Read-only on the segment.",
                            dump);
  command->add_option("file", args->file, "the snapshot file to write")->required();
  command->add_flag("--force", args->force, "overwrite FILE if it exists");
}

}  // namespace servertrack::cli
