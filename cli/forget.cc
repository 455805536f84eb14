// `shmtool forget NAME`: delete one server, as DELETE /server/NAME on the
// ingest port does (shm::Segment::forget); safe while workers run.
#include <fmt/core.h>

#include <string>

#include "cli/command.h"
#include "common/clock.h"
#include "common/defaults.h"
#include "common/segment_advice.h"
#include "shm/segment.h"

namespace servertrack::cli {
namespace {

struct ForgetArgs {
  std::string segment{common::kDefaultSegment};
  std::string server;
};

int forget(const ForgetArgs& args) {
  shm::Segment segment = shm::Segment::attach({.name = args.segment, .access = shm::Access::read_write});
  switch (const shm::Status status = segment.forget(args.server, common::wall_clock_unix_seconds())) {
    case shm::Status::ok:
      fmt::print("forgot server '{}' of segment '{}'; its slot is free for a new name\n", args.server,
                 args.segment);
      return kExitOk;
    case shm::Status::invalid_name:
      throw ToolError(fmt::format("'{}': {}", args.server, shm::describe(status)), kExitUsage);
    default:
      throw ToolError(
          fmt::format("server '{}' in segment '{}': {}", args.server, args.segment, common::with_remedy(status)));
  }
}

}  // namespace

void add_forget(CLI::App& app, Action& selected) {
  auto [command, args] = add_command<ForgetArgs>(
      app, selected, "forget",
      "Delete one server and its data, as DELETE /server/NAME on the ingest port does; its slot "
      "serves a new name. Safe while workers run.",
      forget);
  command->add_option("name", args->server, "the server's name")->required();
}

}  // namespace servertrack::cli
