// `shmtool remove`: delete the segment, unless live workers are attached, and
// the port claim files naming it that no worker holds (common/port_claim.h).
#include <fmt/core.h>

#include <string>

#include "cli/command.h"
#include "cli/processes.h"
#include "common/defaults.h"
#include "common/port_claim.h"
#include "shm/segment.h"

namespace servertrack::cli {
namespace {

struct RemoveArgs {
  std::string segment{common::kDefaultSegment};
  bool force = false;
};

// Throws when the segment must not be removed without --force.
void refuse_if_in_use(const std::string& name) {
  try {
    const shm::Segment segment = attach_read_only(name);
    const std::string users = describe_live(segment);
    if (users.empty()) return;
    throw ToolError(
        fmt::format("segment '{}' is in use by {}; stop them first, or `shmtool remove --segment {} "
                    "--force`",
                    name, users, name));
  } catch (const shm::SegmentError& e) {
    if (e.kind() != shm::SegmentError::Kind::incompatible) throw;
    throw ToolError(
        fmt::format("cannot read the process registry: {}; `shmtool remove --segment {} "
                    "--force` removes it without checking",
                    e.what(), name));
  }
}

int remove(const RemoveArgs& args) {
  if (!args.force) refuse_if_in_use(args.segment);
  if (!shm::Segment::remove(args.segment)) {
    throw shm::SegmentError(shm::SegmentError::Kind::absent, args.segment,
                            fmt::format("segment '{}' does not exist ({}); nothing to remove", args.segment,
                                        shm::Segment::path_of(args.segment)));
  }
  fmt::print("removed segment '{}' ({})\n", args.segment, shm::Segment::path_of(args.segment));
  for (const std::string& path : common::remove_unused_claims(args.segment)) {
    fmt::print("removed its port claim {}\n", path);
  }
  return kExitOk;
}

}  // namespace

void add_remove(CLI::App& app, Action& selected) {
  auto [command, args] = add_command<RemoveArgs>(
      app, selected, "remove", "Delete the segment, and the port claim files naming it that no worker holds. Refuses while live "
      "workers are attached, unless --force.", remove);
  command->add_flag("--force", args->force,
                    "remove even with live workers attached, or when the segment is unreadable");
}

}  // namespace servertrack::cli
