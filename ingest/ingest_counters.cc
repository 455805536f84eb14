#include "ingest/ingest_counters.h"

#include <fmt/format.h>

#include <iterator>

#include "http/metrics.h"

namespace servertrack::ingest {
namespace {

constexpr std::array<const char*, kRejectionCount> kRejectionLabels = {
    "invalid_json", "invalid_name", "invalid_value", "table_full", "duplicate_name",
    "unreadable_body", "slot_busy", "invalid_time", "invalid_line", "forbidden_name"};

}  // namespace

const char* rejection_label(Rejection reason) noexcept {
  return kRejectionLabels[static_cast<std::size_t>(reason)];
}

void IngestCounters::count_recorded(std::uint64_t samples) noexcept {
  recorded_.fetch_add(samples, std::memory_order_relaxed);
}

void IngestCounters::count_rejected(Rejection reason) noexcept {
  rejected_[static_cast<std::size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
}

void IngestCounters::count_ignored_lines(std::uint64_t lines) noexcept {
  ignored_lines_.fetch_add(lines, std::memory_order_relaxed);
}

void IngestCounters::count_ignored_values(std::uint64_t values) noexcept {
  ignored_values_.fetch_add(values, std::memory_order_relaxed);
}

void IngestCounters::render(std::string& out) const {
  http::append_family_header(out, "servertrack_samples_recorded_total", "counter",
                             "Samples this process wrote to the segment.");
  fmt::format_to(std::back_inserter(out), "servertrack_samples_recorded_total {}\n",
                 recorded_.load(std::memory_order_relaxed));
  http::append_family_header(out, "servertrack_samples_rejected_total", "counter",
                             "Samples this process refused, by reason.");
  for (int reason = 0; reason < kRejectionCount; ++reason) {
    fmt::format_to(std::back_inserter(out),
                   "servertrack_samples_rejected_total{{reason=\"{}\"}} {}\n",
                   kRejectionLabels[reason], rejected_[reason].load(std::memory_order_relaxed));
  }
  http::append_family_header(out, "servertrack_foreign_ignored_total", "counter",
                             "Line protocol lines and collectd values accepted that map to no sample "
                             "(other measurements and plugins), by protocol.");
  fmt::format_to(std::back_inserter(out),
                 "servertrack_foreign_ignored_total{{protocol=\"influx\"}} {}\n"
                 "servertrack_foreign_ignored_total{{protocol=\"collectd\"}} {}\n",
                 ignored_lines_.load(std::memory_order_relaxed),
                 ignored_values_.load(std::memory_order_relaxed));
}

}  // namespace servertrack::ingest
