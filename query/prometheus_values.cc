#include "query/prometheus_values.h"

namespace servertrack::query {
namespace {

// The bucket of `window` holding second t, or null when t lies outside it.
template <int N>
const shm::BucketMean* bucket_holding(const shm::Window<N>& window, std::int64_t t) noexcept {
  if (window.step <= 0 || t < window.start) return nullptr;
  const std::int64_t index = (t - window.start) / window.step;
  return index < window.length ? &window.buckets[static_cast<std::size_t>(index)] : nullptr;
}

}  // namespace

std::optional<double> bucket_value(const shm::BucketMean& bucket, Metric metric) noexcept {
  const bool of_cpu = metric == Metric::cpu || metric == Metric::cpu_samples;
  const shm::MetricMean& value = of_cpu ? bucket.cpu : bucket.ram;
  if (value.count == 0) return std::nullopt;
  if (metric == Metric::cpu_samples || metric == Metric::ram_samples) return static_cast<double>(value.count);
  return value.mean;
}

std::optional<double> value_at(const shm::Snapshot& snapshot, Metric metric, std::int64_t t) noexcept {
  const auto& minutes = snapshot.last_60_minutes;
  if (t >= minutes.start + std::int64_t{minutes.step} * shm::kMinuteBuckets) return std::nullopt;  // the future
  if (const shm::BucketMean* minute = bucket_holding(snapshot.last_60_minutes, t)) {
    return bucket_value(*minute, metric);
  }
  if (const shm::BucketMean* hour = bucket_holding(snapshot.last_24_hours, t)) {
    return bucket_value(*hour, metric);
  }
  if (const shm::BucketMean* day = bucket_holding(snapshot.last_days, t)) return bucket_value(*day, metric);
  return std::nullopt;
}

}  // namespace servertrack::query
