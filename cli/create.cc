// `shmtool create`: make the segment, or confirm that a compatible one exists.
#include <fmt/core.h>

#include <cstdint>
#include <string>

#include "cli/command.h"
#include "cli/format.h"
#include "common/clock.h"
#include "common/defaults.h"
#include "shm/segment.h"

namespace servertrack::cli {
namespace {

struct CreateArgs {
  std::string segment{common::kDefaultSegment};
  std::uint64_t capacity = common::kDefaultCapacity;
  int days = common::kDefaultDays;
  std::string mode = "0660";
  bool force = false;
};

mode_t parse_mode(const std::string& text) {
  std::size_t used = 0;
  unsigned long mode = 0;
  try {
    mode = std::stoul(text, &used, 8);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || mode > 0777) {
    throw ToolError("--mode '" + text + "' is not an octal permission such as 0660", kExitUsage);
  }
  if (mode & 0002) {
    throw ToolError("--mode " + text + " would make the segment world-writable; use e.g. 0660 or 0664", kExitUsage);
  }
  if ((mode & 0600) != 0600) {
    throw ToolError("--mode " + text + " must give the owner read and write (0600)", kExitUsage);
  }
  return static_cast<mode_t>(mode);
}

std::string describe_size(std::uint64_t capacity, int days) { return human_bytes(shm::segment_bytes(capacity, days)); }

void report_existing(const shm::Segment& segment) {
  const shm::SegmentFacts h = segment.facts();
  fmt::print("segment '{}' already exists at {} with capacity {}, {} days ({}, mode {:04o}); left unchanged\n",
             segment.name(), shm::Segment::path_of(segment.name()), h.capacity, h.days,
             describe_size(h.capacity, h.days), h.mode);
}

int create(const CreateArgs& args) {
  const mode_t mode = parse_mode(args.mode);
  const shm::AttachOptions existing{args.segment, shm::Access::read_only, args.capacity};
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      report_existing(shm::Segment::attach(existing));
      return kExitOk;
    } catch (const shm::SegmentError& e) {
      if (e.kind() == shm::SegmentError::Kind::incompatible && args.force) {
        fmt::print(stderr, "shmtool: replacing: {}\n", e.what());
        shm::Segment::remove(args.segment);
      } else if (e.kind() != shm::SegmentError::Kind::absent) {
        throw;
      }
    }
    try {
      shm::Segment created =
          shm::Segment::create({args.segment, args.capacity, args.days, mode, common::wall_clock_unix_seconds()});
      fmt::print("created segment '{}' at {}: capacity {} servers, {} days, {} in {}, mode {:04o}\n", args.segment,
                 shm::Segment::path_of(args.segment), args.capacity, args.days, describe_size(args.capacity, args.days),
                 created.pages(), static_cast<unsigned>(mode));
      return kExitOk;
    } catch (const shm::SegmentError& e) {
      // Another process created it between our look and our create: look again.
      if (e.kind() != shm::SegmentError::Kind::exists) throw;
    }
  }
  throw ToolError("segment '" + args.segment + "' keeps appearing and disappearing; is another shmtool running?");
}

}  // namespace

void add_create(CLI::App& app, Action& selected) {
  auto [command, args] =
      add_command<CreateArgs>(app, selected, "create",
                              "Create the segment. Succeeds without change when a compatible one exists; refuses an "
                              "incompatible one (other capacity, layout version, damaged) unless --force.",
                              create);
  command->add_option("--capacity", args->capacity, "number of server slots")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 32));
  command->add_option("--days", args->days, "UTC days of the day window (0: only the last 60 minutes and 24 hours)")
      ->capture_default_str()
      ->check(CLI::Range(0, shm::kMaxDays));
  command->add_option("--mode", args->mode, "octal permission bits; never world-writable")->capture_default_str();
  command->add_flag("--force", args->force,
                    "replace an incompatible segment (its data is lost; `shmtool dump` keeps it)");
}

}  // namespace servertrack::cli
