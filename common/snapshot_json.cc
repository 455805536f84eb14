#include "common/snapshot_json.h"

#include <algorithm>
#include <cmath>
#include <iterator>

namespace servertrack::common {
namespace {

using Metric = const shm::MetricMean& (*)(const shm::BucketMean&);

template <int N>
void append_series(const shm::Window<N>& window, Metric metric, fmt::memory_buffer& out) {
  auto it = std::back_inserter(out);
  out.push_back('[');
  for (int i = 0; i < N; ++i) {
    if (i > 0) out.push_back(',');
    const shm::MetricMean& m = metric(window.buckets[i]);
    const double value = m.mean;
    if (m.count == 0 || !std::isfinite(value)) {
      fmt::format_to(it, "null");
    } else {
      fmt::format_to(it, "{}", value);
    }
  }
  out.push_back(']');
}

template <int N>
void append_counts(const shm::Window<N>& window, fmt::memory_buffer& out) {
  fmt::format_to(std::back_inserter(out), ",\"count\":[");
  for (int i = 0; i < N; ++i) {
    const shm::BucketMean& b = window.buckets[i];
    fmt::format_to(std::back_inserter(out), "{}{}", i > 0 ? "," : "", std::max(b.cpu.count, b.ram.count));
  }
  out.push_back(']');
}

template <int N>
void append_window_body(const shm::Window<N>& window, Counts counts, fmt::memory_buffer& out) {
  fmt::format_to(std::back_inserter(out), "{{\"start\":{},\"step\":{},\"cpu\":", window.start,
                 window.step);
  append_series(window, [](const shm::BucketMean& b) -> const shm::MetricMean& { return b.cpu; }, out);
  fmt::format_to(std::back_inserter(out), ",\"ram\":");
  append_series(window, [](const shm::BucketMean& b) -> const shm::MetricMean& { return b.ram; }, out);
  if (counts == Counts::include) append_counts(window, out);
  out.push_back('}');
}

template <int N>
void append_window(const char* key, const shm::Window<N>& window, Counts counts,
                   fmt::memory_buffer& out) {
  fmt::format_to(std::back_inserter(out), "\"{}\":", key);
  append_window_body(window, counts, out);
}

}  // namespace

void append_snapshot_json(const shm::Snapshot& snapshot, fmt::memory_buffer& out, Counts counts) {
  out.push_back('{');
  append_window("last_60_minutes", snapshot.last_60_minutes, counts, out);
  out.push_back(',');
  append_window("last_24_hours", snapshot.last_24_hours, counts, out);
  out.push_back('}');
}

void append_minutes_json(const shm::Window<shm::kMinuteBuckets>& window, fmt::memory_buffer& out) {
  append_window_body(window, Counts::omit, out);
}

}  // namespace servertrack::common
