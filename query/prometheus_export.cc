#include "query/prometheus_export.h"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <string>

#include "common/clock.h"
#include "http/answer.h"
#include "query/list_params.h"
#include "query/prometheus_json.h"
#include "query/prometheus_values.h"
#include "shm/name.h"
#include "shm/layout.h"

namespace servertrack::query {
namespace {

struct ExportQuery {
  std::string prefix;
  std::int64_t shards = 1;
  std::int64_t shard = 0;
};

ParameterError parse_export_query(const httplib::Request& req, ExportQuery& query) {
  ParameterError error = repeated_parameter(req, {"prefix", "shards", "shard"});
  if (!error) error = parse_prefix(req, query.prefix);
  if (error) return error;
  if (req.has_param("shards") != req.has_param("shard")) {
    return std::string("shards and shard go together: ?shards=4&shard=0 scrapes the first of four parts");
  }
  if (!req.has_param("shards")) return std::nullopt;
  error = parse_whole_number(req, "shards", 1, kMaxExportShards, query.shards);
  if (!error) error = parse_whole_number(req, "shard", 0, query.shards - 1, query.shard);
  return error;
}

}  // namespace

void answer_prometheus_export(shm::Segment& segment, std::string_view allowed_prefix, const httplib::Request& req,
                              httplib::Response& res) {
  ExportQuery query;
  if (const ParameterError error = parse_export_query(req, query)) {
    http::set_json_error(res, 400, *error);
    return;
  }
  const std::int64_t now = common::wall_clock_unix_seconds();
  const std::int64_t minute = (now / shm::kSecondsPerMinute - 1) * shm::kSecondsPerMinute;  // the last complete minute's start
  thread_local std::array<fmt::memory_buffer, kMetrics.size()> families;
  for (auto& family : families) family.clear();
  segment.for_each_server(
      [&](const shm::ServerEntry& entry) {
        if (entry.last_sample_unix < minute || !entry.name.starts_with(query.prefix)) return;
        if (!entry.name.starts_with(allowed_prefix)) return;
        if (query.shards > 1 &&
            static_cast<std::int64_t>(shm::hash_name(entry.name) % static_cast<std::uint64_t>(query.shards)) !=
                query.shard) {
          return;
        }
        shm::SlotCopy copy;
        if (segment.copy_slot(*entry.slot, copy) != shm::Status::ok || copy.name_view() != entry.name) return;
        const shm::Snapshot snapshot = shm::make_snapshot(copy, now);
        for (std::size_t i = 0; i < kMetrics.size(); ++i) {
          const std::optional<double> value = value_at(snapshot, kMetrics[i].metric, minute);
          if (!value || !std::isfinite(*value)) continue;
          fmt::memory_buffer& out = families[i];
          fmt::format_to(std::back_inserter(out), "{}{{{}=\"{}\"}} ", kMetrics[i].name, kServerLabel, entry.name);
          append_sample_value(*value, out);
          fmt::format_to(std::back_inserter(out), " {}000\n", minute);
        }
      },
      now);
  std::string body;
  std::size_t size = 0;
  for (const auto& family : families) size += family.size() + 200;
  body.reserve(size);
  for (std::size_t i = 0; i < kMetrics.size(); ++i) {
    fmt::format_to(std::back_inserter(body), "# HELP {} {}\n# TYPE {} gauge\n", kMetrics[i].name, kMetrics[i].help,
                   kMetrics[i].name);
    body.append(families[i].data(), families[i].size());
  }
  res.body = std::move(body);
  res.set_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace servertrack::query
