// `shmtool restore FILE [DELTA...]`: rebuild a segment from a snapshot file,
// and the delta checkpoints that follow it (cli/snapshot_file.h). Every file
// is validated first; the data goes into a fresh segment under a temporary
// name that is renamed over the target in one step, so the target is either
// untouched or fully restored. A delta that does not load, or follows no file
// before it, ends the chain there: the files before it are restored, the
// rest named as not applied (exit kExitPartial).
#include <fcntl.h>
#include <fmt/core.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <string>
#include <variant>
#include <vector>

#include "cli/command.h"
#include "cli/file_io.h"
#include "cli/format.h"
#include "cli/processes.h"
#include "cli/snapshot_file.h"
#include "common/defaults.h"
#include "shm/segment.h"

namespace servertrack::cli {
namespace {

struct RestoreArgs {
  std::string segment{common::kDefaultSegment};
  std::vector<std::string> files;  // a full snapshot, then its deltas in order
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

// A file of the chain that was not applied, and why.
struct NotApplied {
  std::string file;
  std::string why;
};

// The full snapshot `args.files[0]` with the deltas after it applied in order
// (their servers replace the older copies; the last delta's names say which
// servers there are and in which order); the deltas not applied go to
// `not_applied`, `applied` counts the others.
SnapshotFile read_chain(const RestoreArgs& args, std::vector<NotApplied>& not_applied, int& applied) {
  auto decoded = decode_snapshot(read_file(args.files[0]));
  if (const auto* why = std::get_if<std::string>(&decoded)) {
    throw ToolError(fmt::format("{}: refused, nothing restored: {}", args.files[0], *why));
  }
  SnapshotFile chain = std::move(std::get<SnapshotFile>(decoded));
  if (chain.delta) {
    throw ToolError(fmt::format("{}: refused, nothing restored: it is a delta; give the full checkpoint it "
                                "follows first, then its deltas in order",
                                args.files[0]));
  }
  std::unordered_map<std::string, std::size_t> at;  // name -> its place in chain.servers
  for (std::size_t i = 0; i < chain.servers.size(); ++i) at.emplace(chain.servers[i].name, i);
  std::vector<std::uint64_t> followed{chain.checksum};
  std::vector<std::string> names;
  applied = 0;
  for (std::size_t f = 1; f < args.files.size(); ++f) {
    const std::string& path = args.files[f];
    std::variant<SnapshotFile, std::string> delta = std::string();
    try {
      delta = decode_snapshot(read_file(path));
    } catch (const ToolError& e) {
      delta = std::string(e.what());
    }
    std::string why;
    if (const auto* refused = std::get_if<std::string>(&delta)) {
      why = *refused;
    } else if (const auto& d = std::get<SnapshotFile>(delta); !d.delta) {
      why = "it is not a delta";
    } else if (std::find(followed.begin(), followed.end(), d.base) == followed.end()) {
      why = "it follows no file before it in the chain";
    } else if (d.capacity != chain.capacity || d.days != chain.days || d.created_unix != chain.created_unix) {
      why = "it is of another segment (capacity, days or creation time differ)";
    }
    if (!why.empty()) {
      not_applied.push_back({path, why});
      for (++f; f < args.files.size(); ++f) not_applied.push_back({args.files[f], "it comes after that one"});
      break;
    }
    SnapshotFile& d = std::get<SnapshotFile>(delta);
    for (SnapshotServer& server : d.servers) {
      if (const auto it = at.find(server.name); it != at.end()) {
        chain.servers[it->second] = std::move(server);
      } else {
        at.emplace(server.name, chain.servers.size());
        chain.servers.push_back(std::move(server));
      }
    }
    followed.push_back(d.checksum);
    names = std::move(d.names);
    chain.dumped_unix = d.dumped_unix;
    ++applied;
  }
  if (applied > 0) {
    std::vector<SnapshotServer> servers;
    servers.reserve(names.size());
    for (const std::string& name : names) {
      // A name without a copy: its server was kept out of every dump so far.
      if (const auto it = at.find(name); it != at.end()) servers.push_back(std::move(chain.servers[it->second]));
    }
    chain.servers = std::move(servers);
  }
  return chain;
}

int restore(const RestoreArgs& args) {
  std::vector<NotApplied> not_applied;
  int applied = 0;
  const SnapshotFile snapshot = read_chain(args, not_applied, applied);
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
  const std::string deltas =
      applied == 0 ? ""
                   : fmt::format(" and {} delta{} up to {}", applied, applied == 1 ? "" : "s", args.files[applied]);
  fmt::print("restored {} servers from {}{} (dumped {}, snapshot format {}) into segment '{}' of capacity {} with {} "
             "days{}\n",
             snapshot.servers.size(), args.files[0], deltas, utc_time(snapshot.dumped_unix), snapshot.format,
             args.segment, capacity, days,
             snapshot.format < 3 ? "; converted from the older format: peaks are the means, no days, no retry marks"
                                 : "");
  if (not_applied.empty()) return kExitOk;
  for (const NotApplied& n : not_applied) fmt::print("not applied: {}: {}\n", n.file, n.why);
  fmt::print(stderr, "shmtool: the chain stopped at {} (listed above); restored up to {}\n", not_applied[0].file,
             args.files[applied]);
  return kExitPartial;
}

}  // namespace

void add_restore(CLI::App& app, Action& selected) {
  auto [command, args] = add_command<RestoreArgs>(
      app, selected, "restore",
      "Rebuild the segment from a `shmtool dump` FILE and the deltas (`dump --delta`) that follow it, in "
      "order. Refuses a FILE of another layout version, with a bad checksum or any invalid record, and never "
      "leaves a half-restored segment. A delta that does not load or does not follow ends the chain there: "
      "what came before it is restored, the rest is listed, exit 3.",
      restore);
  command->add_option("files", args->files, "the snapshot file to read, then its deltas in order")->required();
  command->add_option("--capacity", args->capacity, "slots of the new segment (default: the dumped one's)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 32));
  command->add_option("--days", args->days,
                      "UTC days of the new segment's day window (default: the dumped one's; "
                      "for a file of format 1 or 2, " + std::to_string(common::kDefaultDays) + ")")
      ->check(CLI::Range(0, shm::kMaxDays));
  command->add_flag("--force", args->force, "replace an existing segment (refused while workers are attached)");
}

}  // namespace servertrack::cli
