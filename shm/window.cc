#include "shm/window.h"

namespace servertrack::shm {
namespace {

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
    const BucketValue& b = ring[period % N];
    if (b.index != period || b.count == 0) continue;
    w.buckets[i] = {b.count, b.cpu_sum / b.count, b.ram_sum / b.count};
  }
  return w;
}

}  // namespace

Snapshot make_snapshot(const SlotCopy& copy, std::int64_t now) noexcept {
  return {make_window(copy.minutes, now, 60), make_window(copy.hours, now, 3600),
          copy.last_sample_unix};
}

}  // namespace servertrack::shm
