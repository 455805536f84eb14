#include "common/snapshot_json.h"

#include <algorithm>
#include <cmath>
#include <iterator>

namespace servertrack::common {
namespace {

using Metric = shm::MetricMean shm::BucketMean::*;

struct NamedMetric {
  const char* name;
  Metric metric;
};
constexpr NamedMetric kMetrics[] = {{"cpu", &shm::BucketMean::cpu}, {"ram", &shm::BucketMean::ram}};

// ,"<key><suffix>":[e(bucket 0),e(bucket 1),...] over the window's length.
template <int N, typename Element>
void append_array(const shm::Window<N>& window, const char* key, const char* suffix, Element element,
                  fmt::memory_buffer& out) {
  fmt::format_to(std::back_inserter(out), ",\"{}{}\":[", key, suffix);
  for (int i = 0; i < window.length; ++i) {
    if (i > 0) out.push_back(',');
    element(window.buckets[i], out);
  }
  out.push_back(']');
}

// The metric's `field` (mean or max), null where it has no sample or the value is not finite.
auto value_of(Metric metric, double shm::MetricMean::*field) {
  return [metric, field](const shm::BucketMean& bucket, fmt::memory_buffer& out) {
    const shm::MetricMean& m = bucket.*metric;
    if (m.count == 0 || !std::isfinite(m.*field)) {
      fmt::format_to(std::back_inserter(out), "null");
    } else {
      fmt::format_to(std::back_inserter(out), "{}", m.*field);
    }
  };
}

auto count_of(Metric metric) {
  return [metric](const shm::BucketMean& bucket, fmt::memory_buffer& out) {
    fmt::format_to(std::back_inserter(out), "{}", (bucket.*metric).count);
  };
}

template <int N>
void append_window_body(const shm::Window<N>& window, Details details, fmt::memory_buffer& out) {
  fmt::format_to(std::back_inserter(out), "{{\"start\":{},\"step\":{}", window.start, window.step);
  for (const auto& [name, metric] : kMetrics) append_array(window, name, "", value_of(metric, &shm::MetricMean::mean), out);
  if (details.peaks) {
    for (const auto& [name, metric] : kMetrics) {
      append_array(window, name, "_max", value_of(metric, &shm::MetricMean::max), out);
    }
  }
  if (details.counts) {
    for (const auto& [name, metric] : kMetrics) append_array(window, name, "_count", count_of(metric), out);
    append_array(window, "count", "",
                 [](const shm::BucketMean& bucket, fmt::memory_buffer& o) {
                   fmt::format_to(std::back_inserter(o), "{}", std::max(bucket.cpu.count, bucket.ram.count));
                 },
                 out);
  }
  out.push_back('}');
}

}  // namespace

void append_snapshot_json(const shm::Snapshot& snapshot, fmt::memory_buffer& out, Details details) {
  auto it = std::back_inserter(out);
  fmt::format_to(it, "{{\"last_60_minutes\":");
  append_window_body(snapshot.last_60_minutes, details, out);
  fmt::format_to(it, ",\"last_24_hours\":");
  append_window_body(snapshot.last_24_hours, details, out);
  if (snapshot.last_days.length > 0) {
    fmt::format_to(it, ",\"last_{}_days\":", snapshot.last_days.length);
    append_window_body(snapshot.last_days, details, out);
  }
  out.push_back('}');
}

void append_minutes_json(const shm::Window<shm::kMinuteBuckets>& window, fmt::memory_buffer& out) {
  append_window_body(window, Details{}, out);
}

}  // namespace servertrack::common
