#include "ingest/ingest_counters.h"

#include <fmt/format.h>

#include <iterator>

#include "http/metrics.h"

namespace servertrack::ingest {
namespace {

constexpr std::array<const char*, kRejectionCount> kRejectionLabels = {
    "invalid_json", "invalid_name", "invalid_value", "table_full", "duplicate_name",
    "unreadable_body", "slot_busy", "invalid_time"};

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
}

}  // namespace servertrack::ingest
