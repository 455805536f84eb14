// `shmtool grow --capacity N`: shm::grow() on a live segment (shm/grow.h): a
// larger copy is built beside it and published under its name, and the
// workers move to it (they leave when they see theirs replaced; the
// supervisor starts them again at once). Writes get 503 only while the copy
// is taken.
#include <fmt/core.h>

#include <cstdint>
#include <string>

#include "cli/command.h"
#include "common/clock.h"
#include "common/defaults.h"
#include "shm/grow.h"

namespace servertrack::cli {
namespace {

struct GrowArgs {
  std::string segment{common::kDefaultSegment};
  std::uint64_t capacity = 0;
  int patience_ms = 2000;
};

int grow(const GrowArgs& args) {
  using Outcome = shm::GrowResult::Outcome;
  const shm::GrowResult grown = shm::grow(args.segment, args.capacity, args.patience_ms,
                                          common::wall_clock_unix_seconds());
  const std::string unchanged = fmt::format("segment '{}' was not grown", args.segment);
  switch (grown.outcome) {
    case Outcome::grown:
      break;
    case Outcome::not_larger:
      throw ToolError(fmt::format("{}: --capacity {} is not larger than its {}; a segment only grows", unchanged,
                                  args.capacity, grown.old_capacity),
                      kExitUsage);
    case Outcome::already_replaced:
      throw ToolError(fmt::format("{}: a grow already replaced it; its workers are moving to the larger one",
                                  unchanged));
    case Outcome::frozen_elsewhere:
      throw ToolError(fmt::format("{}: another grow holds it, or a writer held a slot's lock for {} ms; it serves "
                                  "on unchanged",
                                  unchanged, args.patience_ms));
    case Outcome::no_room:
      throw ToolError(unchanged + ": the larger segment ran out of slots; it serves on unchanged");
    case Outcome::rename_failed:
      throw ToolError(fmt::format("{}: publishing the larger one failed ({}); it serves on unchanged", unchanged,
                                  grown.error));
  }
  fmt::print("grew segment '{}' from capacity {} to {}: copied {} servers; writes were refused for {:.0f} ms "
             "while they were copied; its workers now move to it\n",
             args.segment, grown.old_capacity, args.capacity, grown.copied.servers, grown.frozen_ms);
  if (grown.copied.unreadable == 0) return kExitOk;
  fmt::print(stderr, "shmtool: {} damaged servers could not be read and were not copied\n", grown.copied.unreadable);
  return kExitPartial;
}

}  // namespace

void add_grow(CLI::App& app, Action& selected) {
  auto [command, args] = add_command<GrowArgs>(
      app, selected, "grow",
      "Give a live segment more slots: a larger copy is built beside it and published under its name, and "
      "the workers move to it (the supervisor restarts each at once). Writes get 503 only while the "
      "servers are copied; nothing acknowledged is lost. A segment only grows.",
      grow);
  command->add_option("--capacity", args->capacity, "server slots of the grown segment (more than now)")
      ->required()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 32));
  command->add_option("--patience-ms", args->patience_ms,
                      "how long a writer may hold a slot's lock before the grow gives up (default 2000)")
      ->check(CLI::Range(1, 60000));
}

}  // namespace servertrack::cli
