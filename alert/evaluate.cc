// One rule judged against one server's windows: see alert/evaluate.h.
#include "alert/evaluate.h"

namespace servertrack::alert {
namespace {

const shm::MetricMean& metric_of(const shm::BucketMean& bucket, Metric metric) {
  return metric == Metric::cpu ? bucket.cpu : bucket.ram;
}

bool meets(const Rule& rule, double value) { return rule.above ? value > rule.threshold : value < rule.threshold; }

Finding minutes(const Rule& rule, const shm::Window<shm::kMinuteBuckets>& window) {
  constexpr int kComplete = shm::kMinuteBuckets - 1;  // the newest bucket is still filling
  auto at = [&](int i) -> const shm::MetricMean& { return metric_of(window.buckets[i], rule.metric); };
  auto minute_start = [&](int i) { return window.start + std::int64_t{i} * window.step; };
  int newest = kComplete - 1;
  while (newest >= 0 && at(newest).count == 0) --newest;  // after the newest sample: silence, not a break
  Finding found;
  // The newest run: it ends at the newest minute with a sample when that one
  // meets the condition (open), else at the newest meeting minute before it.
  int end = newest;
  while (end >= 0 && !(at(end).count > 0 && meets(rule, at(end).mean))) --end;
  if (end < 0) return found;
  int first = end;
  while (first > 0 && at(first - 1).count > 0 && meets(rule, at(first - 1).mean)) --first;
  const int length = end - first + 1;
  found.starts_at = minute_start(first);
  found.last_end = minute_start(end) + window.step;
  found.value = at(end).mean;
  if (end == newest) {
    found.state = length >= rule.count ? Finding::State::firing : Finding::State::pending;
  } else if (length >= rule.count) {
    found.state = Finding::State::resolved;
    found.ends_at = found.last_end;
  }
  return found;
}

Finding hours(const Rule& rule, const shm::Window<shm::kHourBuckets>& window, std::int64_t now) {
  constexpr int kComplete = shm::kHourBuckets - 1;
  double sum = 0;
  std::uint64_t count = 0;
  for (int i = kComplete - rule.count; i < kComplete; ++i) {
    const shm::MetricMean& m = metric_of(window.buckets[i], rule.metric);
    sum += m.mean * m.count;
    count += m.count;
  }
  Finding found;
  if (count == 0) return found;
  found.value = sum / static_cast<double>(count);
  if (meets(rule, found.value)) {
    found.state = Finding::State::firing;
    found.starts_at = window.start + std::int64_t{kComplete - rule.count} * window.step;
    found.last_end = now;
  }
  return found;
}

}  // namespace

Finding evaluate(const Rule& rule, const shm::Snapshot& windows, std::int64_t now) noexcept {
  switch (rule.kind) {
    case Kind::minutes:
      return minutes(rule, windows.last_60_minutes);
    case Kind::hours:
      return hours(rule, windows.last_24_hours, now);
    case Kind::silent: {
      Finding found;
      const std::int64_t quiet = now - windows.last_sample_unix;
      found.value = static_cast<double>(quiet / 60);
      if (quiet >= std::int64_t{rule.count} * 60) {
        found.state = Finding::State::firing;
        found.starts_at = windows.last_sample_unix + std::int64_t{rule.count} * 60;
        found.last_end = now;
      }
      return found;
    }
  }
  return {};
}

std::int64_t silence_ended_at(const shm::Snapshot& windows, std::int64_t since) noexcept {
  const auto& window = windows.last_60_minutes;
  for (int i = 0; i < window.length; ++i) {
    const std::int64_t start = window.start + std::int64_t{i} * window.step;
    const auto& bucket = window.buckets[i];
    if (start > since && (bucket.cpu.count > 0 || bucket.ram.count > 0)) return start;
  }
  return windows.last_sample_unix;
}

}  // namespace servertrack::alert
