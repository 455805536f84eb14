// `shmtool show NAME`: one server's windows (60 minutes, 24 hours and the
// segment's days), as a table or as the query worker's JSON
// (common/snapshot_json.h renders both the same way; --counts and --peaks as
// the query parameters of the same names).
#include <fmt/core.h>

#include <cmath>
#include <string>

#include "cli/command.h"
#include "cli/format.h"
#include "common/clock.h"
#include "common/defaults.h"
#include "common/segment_advice.h"
#include "common/snapshot_json.h"
#include "shm/segment.h"

namespace servertrack::cli {
namespace {

struct ShowArgs {
  std::string segment{common::kDefaultSegment};
  std::string server;
  bool json = false;
  common::Details details;
  bool all_buckets = false;
  std::int64_t now = common::wall_clock_unix_seconds();
};

// "-" for a metric without samples in the bucket.
std::string percent(const shm::MetricMean& metric, double value) {
  return metric.count > 0 && std::isfinite(value) ? fmt::format("{:.2f}", value) : "-";
}

// Every bucket with `all_buckets`, else only those with samples of either metric.
template <int N>
void print_window(const std::string& title, const shm::Window<N>& window, bool all_buckets) {
  TextTable table({"START", "CPU SAMPLES", "CPU MEAN %", "CPU MAX %", "RAM SAMPLES", "RAM MEAN %", "RAM MAX %"},
                  {false, true, true, true, true, true, true});
  int shown = 0;
  for (int i = 0; i < window.length; ++i) {
    const shm::BucketMean& b = window.buckets[i];
    if (b.cpu.count == 0 && b.ram.count == 0 && !all_buckets) continue;
    ++shown;
    table.add_row({utc_time(window.start + std::int64_t{i} * window.step), std::to_string(b.cpu.count),
                   percent(b.cpu, b.cpu.mean), percent(b.cpu, b.cpu.max), std::to_string(b.ram.count),
                   percent(b.ram, b.ram.mean), percent(b.ram, b.ram.max)});
  }
  if (all_buckets) {
    fmt::print("\n{} ({} buckets of {} s, oldest first):\n", title, window.length, window.step);
  } else {
    fmt::print("\n{} ({} of {} buckets of {} s have samples, oldest first; --all shows every bucket):\n",
               title, shown, window.length, window.step);
  }
  if (shown > 0) fmt::print("{}", table.render("  "));
}

int show(const ShowArgs& args) {
  shm::Segment segment = attach_read_only(args.segment);
  shm::Snapshot snapshot;
  switch (const shm::Status status = segment.snapshot(args.server, args.now, snapshot)) {
    case shm::Status::ok:
      break;
    case shm::Status::invalid_name:
      throw ToolError(fmt::format("'{}': {}", args.server, shm::describe(status)), kExitUsage);
    default:
      throw ToolError(
          fmt::format("server '{}' in segment '{}': {}", args.server, args.segment, common::with_remedy(status)));
  }
  if (args.json) {
    fmt::memory_buffer out;
    common::append_snapshot_json(snapshot, out, args.details);
    fmt::print("{}\n", std::string_view(out.data(), out.size()));
    return kExitOk;
  }
  fmt::print("server {}: last sample {} ({})\n", args.server, utc_time(snapshot.last_sample_unix),
             human_age(snapshot.last_sample_unix, args.now));
  print_window("last 60 minutes", snapshot.last_60_minutes, args.all_buckets);
  print_window("last 24 hours", snapshot.last_24_hours, args.all_buckets);
  if (snapshot.last_days.length > 0) {
    print_window(fmt::format("last {} days", snapshot.last_days.length), snapshot.last_days, args.all_buckets);
  }
  return kExitOk;
}

}  // namespace

void add_show(CLI::App& app, Action& selected) {
  auto [command, args] = add_command<ShowArgs>(
      app, selected, "show",
      "Show one server's last 60 minutes, last 24 hours and last days (as many as the segment "
      "keeps): bucket start time, and per metric the samples, mean and largest sample of the "
      "buckets with samples (--all: every bucket). --json prints exactly what the query worker's "
      "GET /server/NAME answers (--counts, --peaks: with ?counts=1, ?peaks=1). Read-only.",
      show);
  command->add_option("name", args->server, "the server's name")->required();
  command->add_flag("--all", args->all_buckets, "also list the buckets without samples");
  add_json_flag(*command, args->json);
  command->add_flag("--counts", args->details.counts, "with --json: add the samples per bucket, as ?counts=1");
  command->add_flag("--peaks", args->details.peaks, "with --json: add each bucket's largest sample, as ?peaks=1");
  add_now_option(*command, args->now);
}

}  // namespace servertrack::cli
