// `shmtool list`: the servers, their last sample and their samples in the last hour.
#include <fmt/core.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/format.h"
#include "common/clock.h"
#include "common/defaults.h"
#include "common/json_string.h"
#include "shm/segment.h"

namespace servertrack::cli {
namespace {

struct ListArgs {
  std::string segment{common::kDefaultSegment};
  std::string active_within;
  std::string prefix;
  bool json = false;
  std::int64_t now = common::wall_clock_unix_seconds();
};

struct Row {
  std::string name;
  std::int64_t last_sample_unix;
  std::optional<std::uint64_t> samples_last_hour;  // empty: mid-write by a dead writer
};

std::vector<Row> collect(shm::Segment& segment, const ListArgs& args, std::int64_t since) {
  std::vector<Row> rows;
  segment.for_each_server([&](const shm::ServerEntry& server) {
    if (!server.name.starts_with(args.prefix)) return;
    shm::SlotCopy copy;
    Row row{std::string(server.name), server.last_sample_unix, {}};
    if (segment.copy_slot(*server.slot, copy) == shm::Status::ok && copy.name_view() == server.name) {
      row.last_sample_unix = copy.last_sample_unix;
      std::uint64_t count = 0;
      for (const auto& bucket : shm::make_snapshot(copy, args.now).last_60_minutes.buckets) {
        count += std::max(bucket.cpu.count, bucket.ram.count);  // each sample carries one metric or both
      }
      row.samples_last_hour = count;
    }
    if (row.last_sample_unix >= since) rows.push_back(std::move(row));
  }, args.now);
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.name < b.name; });
  return rows;
}

void print_json(const std::vector<Row>& rows) {
  std::string out = "[";
  for (const Row& r : rows) {
    out += fmt::format("{}\n  {{\"name\": {}, \"last_sample_unix\": {}, \"samples_last_hour\": {}}}",
                       &r == rows.data() ? "" : ",", common::json_string(r.name), r.last_sample_unix,
                       r.samples_last_hour ? std::to_string(*r.samples_last_hour) : "null");
  }
  fmt::print("{}{}]\n", out, rows.empty() ? "" : "\n");
}

void print_human(const std::vector<Row>& rows, std::int64_t now) {
  TextTable table({"NAME", "LAST SAMPLE", "AGE", "SAMPLES (LAST HOUR)"}, {false, false, true, true});
  for (const Row& r : rows) {
    table.add_row({r.name, utc_time(r.last_sample_unix), human_age(r.last_sample_unix, now),
                   r.samples_last_hour ? std::to_string(*r.samples_last_hour) : "mid-write"});
  }
  fmt::print("{}{} server{}\n", table.render(), rows.size(), rows.size() == 1 ? "" : "s");
}

int list(const ListArgs& args) {
  shm::Segment segment = attach_read_only(args.segment);
  const std::int64_t since = args.active_within.empty() ? INT64_MIN : args.now - parse_duration(args.active_within);
  const auto rows = collect(segment, args, since);
  if (args.json) {
    print_json(rows);
  } else {
    print_human(rows, args.now);
  }
  return kExitOk;
}

}  // namespace

void add_list(CLI::App& app, Action& selected) {
  auto [command, args] =
      add_command<ListArgs>(app, selected, "list",
                            "List the servers by name, with the time of their last sample and their sample count in "
                            "the last hour. Read-only.",
                            list);
  command->add_option("--active-within", args->active_within,
                      "only servers with a sample in this last DURATION (90s, 15m, 2h, 1d)");
  command->add_option("--prefix", args->prefix, "only servers whose name starts with this");
  add_json_flag(*command, args->json);
  add_now_option(*command, args->now);
}

}  // namespace servertrack::cli
