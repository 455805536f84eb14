#include "shm/window.h"

#include "shm/snapshot_fill.h"

namespace servertrack::shm {
namespace {

template <class Value>
BucketMean mean_of(const Value& v) noexcept {
  BucketMean b;
  MetricMean* out[kMetrics] = {&b.cpu, &b.ram};
  for (int m = 0; m < kMetrics; ++m) {
    if (v.count[m] == 0) continue;
    *out[m] = {v.count[m], v.sum[m] / v.count[m], v.max[m]};
  }
  return b;
}

template <int N, class Value>
void fill_window(const Value* ring, int length, std::int64_t now, int step, Window<N>& w) noexcept {
  w.step = step;
  w.length = length;
  const std::int64_t current = now / step;
  const std::int64_t first = current - (length - 1);
  w.start = length > 0 ? first * step : 0;
  for (int i = 0; i < length; ++i) {
    const std::int64_t period = first + i;
    w.buckets[i] = period < 0 ? BucketMean{} : bucket_mean(ring[period % length], period);
  }
}

}  // namespace

BucketMean bucket_mean(const MinuteValue& b, std::int64_t period) noexcept {
  return b.index == period ? mean_of(b) : BucketMean{};
}
BucketMean bucket_mean(const HourValue& b, std::int64_t period) noexcept {
  return b.index == period ? mean_of(b) : BucketMean{};
}
BucketMean bucket_mean(const DayValue& b, std::int64_t period) noexcept {
  return day_of_key(b.key) == period ? mean_of(b) : BucketMean{};
}

void fill_snapshot(const SlotCopy& copy, std::int64_t now, Snapshot& out) noexcept {
  fill_window(copy.minutes, kMinuteBuckets, now, kSecondsPerMinute, out.last_60_minutes);
  fill_window(copy.hours, kHourBuckets, now, kSecondsPerHour, out.last_24_hours);
  fill_window(copy.days, copy.day_count, now, kSecondsPerDay, out.last_days);
  out.last_sample_unix = copy.last_sample_unix;
}

Snapshot make_snapshot(const SlotCopy& copy, std::int64_t now) noexcept {
  Snapshot s;
  fill_snapshot(copy, now, s);
  return s;
}

}  // namespace servertrack::shm
