#include "query/fleet.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "common/json_string.h"
#include "common/snapshot_json.h"
#include "shm/layout.h"

namespace servertrack::query {
namespace {

// The longest `stale` accepted: ten years.
constexpr std::int64_t kMaxStaleSeconds = 10LL * 366 * shm::kSecondsPerDay;

// The means of a server's latest minute with samples, and when it began.
struct Latest {
  std::optional<double> cpu, ram;            // the means of the latest minute with samples
  std::optional<std::int64_t> minute_start;  // when that minute began
  std::optional<double> cpu_peak, ram_peak;  // the largest samples of the latest hour with samples
};

// A row kept for the page: its own copy of the name, since the slot may be
// reused for another server while the walk goes on.
struct Row {
  std::optional<double> value;
  std::string name;
  shm::Slot* slot;
  std::int64_t last_sample;
  Latest latest;
  FleetKey key() const { return {value, name}; }
};

std::optional<double> finite(double value) {
  return std::isfinite(value) ? std::optional<double>(value) : std::nullopt;
}

std::optional<double> mean_of(const shm::MetricMean& metric) {
  return metric.count > 0 ? finite(metric.mean) : std::nullopt;
}

std::optional<double> peak_of(const shm::MetricMean& metric) {
  return metric.count > 0 ? finite(metric.max) : std::nullopt;
}

// The minute starting at `start`, when it has samples.
void set_means(const shm::BucketMean& minute, std::int64_t start, Latest& latest) {
  if (minute.cpu.count == 0 && minute.ram.count == 0) return;
  latest.cpu = mean_of(minute.cpu);
  latest.ram = mean_of(minute.ram);
  latest.minute_start = start;
}

void set_peaks(const shm::BucketMean& hour, Latest& latest) {
  latest.cpu_peak = peak_of(hour.cpu);
  latest.ram_peak = peak_of(hour.ram);
}

// The position of the newest bucket of `window` with a sample of either
// metric, or -1.
template <int N>
int newest_with_samples(const shm::Window<N>& window) {
  for (int i = window.length - 1; i >= 0; --i) {
    const shm::BucketMean& bucket = window.buckets[i];
    if (bucket.cpu.count > 0 || bucket.ram.count > 0) return i;
  }
  return -1;
}

// The means of the newest minute with samples in the 60 minutes ending at
// `now`, whether or not it is the current one (a backfilled or stopped
// server's is older), and the peaks of the newest hour with samples in the 24 hours ending
// in now's hour. The newest sample's own minute and hour answer both (`seen`);
// only a sample stamped after `now` (a clock set back) needs the whole windows.
Latest latest_values(shm::Segment& segment, shm::Slot& slot, std::string_view name,
                     const shm::LatestMinute& seen, std::int64_t now) {
  Latest latest;
  const std::int64_t minute = seen.last_sample_unix / shm::kSecondsPerMinute;
  if (minute > now / shm::kSecondsPerMinute) {
    shm::SlotCopy copy;
    if (segment.copy_slot(slot, copy) != shm::Status::ok || copy.name_view() != name) return {};
    const shm::Snapshot snapshot = shm::make_snapshot(copy, now);
    const auto& minutes = snapshot.last_60_minutes;
    if (const int i = newest_with_samples(minutes); i >= 0) {
      set_means(minutes.buckets[i], minutes.start + std::int64_t{i} * minutes.step, latest);
    }
    if (const int i = newest_with_samples(snapshot.last_24_hours); i >= 0) {
      set_peaks(snapshot.last_24_hours.buckets[i], latest);
    }
    return latest;
  }
  if (minute > now / shm::kSecondsPerMinute - shm::kMinuteBuckets) {
    set_means(seen.minute, minute * shm::kSecondsPerMinute, latest);
  }
  if (seen.last_sample_unix / shm::kSecondsPerHour > now / shm::kSecondsPerHour - shm::kHourBuckets) set_peaks(seen.hour, latest);
  return latest;
}

std::optional<double> sort_value(FleetSort sort, const Latest& latest, std::int64_t last_sample) {
  switch (sort) {
    case FleetSort::cpu: return latest.cpu;
    case FleetSort::ram: return latest.ram;
    case FleetSort::cpu_peak: return latest.cpu_peak;
    case FleetSort::ram_peak: return latest.ram_peak;
    case FleetSort::last_sample: return static_cast<double>(last_sample);
    case FleetSort::name: return std::nullopt;
  }
  return std::nullopt;
}

void append_number_or_null(const std::optional<double>& value, fmt::memory_buffer& out) {
  if (value) {
    fmt::format_to(std::back_inserter(out), "{}", *value);
  } else {
    fmt::format_to(std::back_inserter(out), "null");
  }
}

void append_row(shm::Segment& segment, const Row& row, std::int64_t now, fmt::memory_buffer& out) {
  auto it = std::back_inserter(out);
  fmt::format_to(it, "{{\"name\":{},\"last_sample\":{},\"cpu\":", common::json_string(row.name),
                 row.last_sample);
  append_number_or_null(row.latest.cpu, out);
  fmt::format_to(it, ",\"ram\":");
  append_number_or_null(row.latest.ram, out);
  if (row.latest.minute_start) {
    fmt::format_to(it, ",\"latest_minute\":{}", *row.latest.minute_start);
  } else {
    fmt::format_to(it, ",\"latest_minute\":null");
  }
  fmt::format_to(it, ",\"cpu_peak\":");
  append_number_or_null(row.latest.cpu_peak, out);
  fmt::format_to(it, ",\"ram_peak\":");
  append_number_or_null(row.latest.ram_peak, out);
  fmt::format_to(it, ",\"last_60_minutes\":");
  shm::SlotCopy copy;
  if (segment.copy_slot(*row.slot, copy) == shm::Status::ok && copy.name_view() == row.name) {
    common::append_minutes_json(shm::make_snapshot(copy, now).last_60_minutes, out);
  } else {
    fmt::format_to(it, "null");
  }
  out.push_back('}');
}

}  // namespace

std::variant<FleetQuery, std::string> parse_fleet_query(const httplib::Request& request) {
  FleetQuery query;
  ParameterError error =
      repeated_parameter(request, {"sort", "order", "prefix", "stale", "limit", "cursor", "cursor_included"});
  if (!error) error = parse_prefix(request, query.prefix);
  if (!error) error = parse_limit(request, query.limit);
  if (!error && request.has_param("stale")) {
    std::int64_t stale = 0;
    error = parse_whole_number(request, "stale", 0, kMaxStaleSeconds, stale);
    query.stale_seconds = stale;
  }
  if (error) return *error;
  if (request.has_param("sort")) {
    const auto sort = parse_fleet_sort(request.get_param_value("sort"));
    if (!sort) return std::string("sort must be cpu, ram, cpu_peak, ram_peak, name or last_sample");
    query.order.sort = *sort;
  }
  query.order.order = default_order(query.order.sort);
  if (request.has_param("order")) {
    const auto order = parse_sort_order(request.get_param_value("order"));
    if (!order) return std::string("order must be asc or desc");
    query.order.order = *order;
  }
  query.cursor = request.get_param_value("cursor");
  if (request.has_param("cursor_included")) {
    const std::string included = request.get_param_value("cursor_included");
    if (included != "0" && included != "1") return std::string("cursor_included must be 1 or 0");
    query.cursor_included = included == "1";
  }
  return query;
}

std::optional<std::string> append_fleet_json(shm::Segment& segment, const FleetQuery& query,
                                             std::int64_t now, fmt::memory_buffer& out) {
  std::optional<FleetKey> after;
  if (!query.cursor.empty()) {
    DecodedCursor decoded = decode_cursor(query.order, query.cursor);
    if (!decoded.key) return decoded.error;
    after = decoded.key;
  }
  const FleetOrder& order = query.order;
  // A max-heap by listing order: its top is the last of the best limit + 1
  // rows seen so far (the extra row says whether another page follows).
  const auto listed_before = [&order](const Row& a, const Row& b) { return order.before(a.key(), b.key()); };
  thread_local std::vector<Row> best;
  best.clear();
  std::size_t total = 0;
  segment.for_each_server(
      [&](const shm::ServerEntry& entry) {
        if (!entry.name.starts_with(query.prefix)) return;
        shm::LatestMinute seen{};
        if (segment.copy_latest_minute(*entry.slot, entry.name, seen) != shm::Status::ok) {
          seen = {};
          seen.last_sample_unix = entry.last_sample_unix;
          seen.holds = true;
        }
        if (!seen.holds) return;  // deleted or reused since its name was read
        if (seen.last_sample_unix <= 0) return;  // claimed, first sample not yet written
        if (query.stale_seconds && now - seen.last_sample_unix < *query.stale_seconds) return;
        ++total;
        const Latest latest = latest_values(segment, *entry.slot, entry.name, seen, now);
        const FleetKey key{sort_value(order.sort, latest, seen.last_sample_unix), entry.name};
        if (after && (query.cursor_included ? order.before(key, *after) : !order.before(*after, key))) return;
        if (best.size() == query.limit + 1) {
          if (!order.before(key, best.front().key())) return;
          std::pop_heap(best.begin(), best.end(), listed_before);
          Row& row = best.back();  // reuses the name's buffer
          row.value = key.value;
          row.name.assign(entry.name);
          row.slot = entry.slot;
          row.last_sample = seen.last_sample_unix;
          row.latest = latest;
        } else {
          best.push_back({key.value, std::string(entry.name), entry.slot, seen.last_sample_unix, latest});
        }
        std::push_heap(best.begin(), best.end(), listed_before);
      },
      now);
  std::sort_heap(best.begin(), best.end(), listed_before);
  const std::size_t shown = std::min(best.size(), query.limit);

  auto it = std::back_inserter(out);
  fmt::format_to(it, "{{\"now\":{},\"sort\":\"{}\",\"order\":\"{}\",\"total\":{},\"servers\":[", now,
                 describe(order.sort), describe(order.order), total);
  for (std::size_t i = 0; i < shown; ++i) {
    if (i > 0) out.push_back(',');
    append_row(segment, best[i], now, out);
  }
  fmt::format_to(it, "],\"next_cursor\":{}}}",
                 best.size() > shown ? common::json_string(encode_cursor(order, best[shown - 1].key()))
                                     : "null");
  return std::nullopt;
}

}  // namespace servertrack::query
