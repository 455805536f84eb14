// `shmtool info`: what the segment is, how full, its counters and processes.
#include <fmt/core.h>

#include <string>

#include "cli/command.h"
#include "cli/format.h"
#include "cli/processes.h"
#include "common/clock.h"
#include "common/defaults.h"
#include "common/json_string.h"
#include "shm/segment.h"

namespace servertrack::cli {
namespace {

struct InfoArgs {
  std::string segment{common::kDefaultSegment};
  bool json = false;
};

struct Facts {
  std::uint64_t used;
  double fill_percent;
  std::uint64_t total_bytes;
};

Facts facts_of(const shm::SegmentFacts& h) {
  const std::uint64_t used = h.used_slots;
  return {used, 100.0 * static_cast<double>(used) / static_cast<double>(h.capacity),
          shm::segment_bytes(h.capacity, h.days)};
}

void print_json(const shm::Segment& segment, const std::vector<shm::RegisteredProcess>& processes) {
  const shm::SegmentFacts h = segment.facts();
  const Facts f = facts_of(h);
  std::string procs;
  for (const shm::RegisteredProcess& p : processes) {
    procs += fmt::format("{}{{\"pid\": {}, \"kind\": \"{}\", \"start_unix\": {}, \"alive\": {}}}",
                         procs.empty() ? "" : ", ", p.pid, shm::describe(p.kind), p.start_unix, p.alive);
  }
  fmt::print(
      "{{\"segment\": {}, \"path\": {}, \"layout_version\": {}, \"capacity\": {}, \"days\": {}, \"used_slots\": {}, "
      "\"fill_percent\": {:.3f}, \"bytes_total\": {}, \"bytes_header\": {}, \"bytes_fingerprints\": {}, "
      "\"bytes_per_server\": {}, "
      "\"mode\": \"{:04o}\", \"created_unix\": {}, \"samples_recorded\": {}, \"lock_takeovers\": {}, "
      "\"table_full_rejections\": {}, \"writes\": {}, \"processes\": [{}]}}\n",
      common::json_string(segment.name()), common::json_string(shm::Segment::path_of(segment.name())), h.layout_version,
      h.capacity, h.days, f.used, f.fill_percent, f.total_bytes, h.header_size, shm::fingerprint_bytes(h.capacity), h.slot_size, h.mode, h.created_unix,
      h.samples_recorded, h.lock_takeovers, h.table_full_rejections,
      common::json_string(shm::Segment::describe(segment.write_state())), procs);
}

void print_human(const shm::Segment& segment, const std::vector<shm::RegisteredProcess>& processes, std::int64_t now) {
  const shm::SegmentFacts h = segment.facts();
  const Facts f = facts_of(h);
    TextTable facts({"", ""}, {false, false});
  facts.add_row({"segment", segment.name()});
  facts.add_row({"path", shm::Segment::path_of(segment.name())});
  facts.add_row({"layout version", std::to_string(h.layout_version)});
  facts.add_row({"capacity", fmt::format("{} servers", h.capacity)});
  facts.add_row({"days", h.days > 0 ? fmt::format("{} (the day window)", h.days) : "0 (no day window)"});
  facts.add_row({"used slots", fmt::format("{} ({:.1f} % full)", f.used, f.fill_percent)});
  facts.add_row({"size", fmt::format("{} in all: {} header + {} fingerprints + {} per server",
                                     human_bytes(f.total_bytes), human_bytes(h.header_size),
                                     human_bytes(shm::fingerprint_bytes(h.capacity)), human_bytes(h.slot_size))});
  facts.add_row({"mode", fmt::format("{:04o}", h.mode)});
  facts.add_row({"created", fmt::format("{} ({})", utc_time(h.created_unix), human_age(h.created_unix, now))});
  facts.add_row({"samples recorded", std::to_string(h.samples_recorded)});
  facts.add_row({"lock takeovers", std::to_string(h.lock_takeovers)});
  facts.add_row({"table-full rejections", std::to_string(h.table_full_rejections)});
  facts.add_row({"writes", shm::Segment::describe(segment.write_state())});
  std::size_t alive = 0;
  for (const shm::RegisteredProcess& p : processes) alive += p.alive;
  facts.add_row({"processes", fmt::format("{} registered, {} alive", processes.size(), alive)});
  fmt::print("{}", facts.render());
  if (processes.empty()) return;
  TextTable table({"PID", "KIND", "STARTED", "STATE"}, {true, false, false, false});
  for (const shm::RegisteredProcess& p : processes) {
    table.add_row({std::to_string(p.pid), shm::describe(p.kind),
                   fmt::format("{} ({})", utc_time(p.start_unix), human_age(p.start_unix, now)),
                   p.alive ? "alive" : "dead"});
  }
  fmt::print("\n{}", table.render("  "));
}

int info(const InfoArgs& args) {
  const shm::Segment segment = attach_read_only(args.segment);
  const auto processes = segment.registered_processes();
  if (args.json) {
    print_json(segment, processes);
  } else {
    print_human(segment, processes, common::wall_clock_unix_seconds());
  }
  return kExitOk;
}

}  // namespace

void add_info(CLI::App& app, Action& selected) {
  auto [command, args] =
      add_command<InfoArgs>(app, selected, "info",
                            "Show the segment: layout, capacity and fill, sizes, creation time, counters, and the "
                            "processes attached (alive or dead). Read-only.",
                            info);
  add_json_flag(*command, args->json);
}

}  // namespace servertrack::cli
