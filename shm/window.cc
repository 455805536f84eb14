#include "shm/window.h"

namespace servertrack::shm {
namespace {

MetricMean metric_mean(std::uint32_t count, double sum) noexcept {
  if (count == 0) return {};
  return {count, sum / count, 0};
}

template <int N>
Window<N> make_window(const BucketValue (&ring)[N], std::int64_t now, int step) noexcept {
  Window<N> w;
  w.step = step;
  const std::int64_t current = now / step;
  const std::int64_t first = current - (N - 1);
  w.start = first * step;
  for (int i = 0; i < N; ++i) {
    const std::int64_t period = first + i;
    if (period < 0) continue;
    w.buckets[i] = bucket_mean(ring[period % N], period);
  }
  return w;
}

}  // namespace

BucketMean bucket_mean(const BucketValue& b, std::int64_t period) noexcept {
  if (b.index != period || b.count == 0) return {};
  return {metric_mean(b.count, b.cpu_sum), metric_mean(b.count, b.ram_sum)};
}

Snapshot make_snapshot(const SlotCopy& copy, std::int64_t now) noexcept {
  Snapshot s{make_window(copy.minutes, now, 60), make_window(copy.hours, now, 3600), {}, copy.last_sample_unix};
  s.last_days.step = 86400;
  s.last_days.length = 0;
  return s;
}

}  // namespace servertrack::shm
