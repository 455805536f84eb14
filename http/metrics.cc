#include "http/metrics.h"

#include <fmt/format.h>

#include <ctime>
#include <iterator>

namespace servertrack::http {
namespace {

constexpr std::array<const char*, kRouteCount> kRouteLabels = {
    "/", "/healthz", "/metrics", "/server/<name>", "/servers", "/fleet", "other", "connection"};
constexpr std::array<const char*, kRejectionCount> kRejectionLabels = {
    "invalid_json", "invalid_name", "invalid_value", "table_full", "duplicate_name",
    "unreadable_body", "slot_busy"};

thread_local std::chrono::steady_clock::time_point request_start;

double wall_clock_now() noexcept {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

void family(std::string& out, const char* name, const char* type, const char* help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

Route route_of(std::string_view path) noexcept {
  if (path == "/") return Route::root;
  if (path == "/healthz") return Route::healthz;
  if (path == "/metrics") return Route::metrics;
  if (path == "/servers") return Route::servers;
  if (path == "/fleet") return Route::fleet;
  if (path.starts_with("/server/")) return Route::server;
  return Route::other;
}

WorkerMetrics::WorkerMetrics() : start_unix_seconds_(wall_clock_now()) {}

void WorkerMetrics::count_request(Route route, int status) noexcept {
  if (status < kMinStatus || status >= kMinStatus + kStatusCount) return;
  requests_[static_cast<int>(route)][status - kMinStatus].fetch_add(1, std::memory_order_relaxed);
}

void WorkerMetrics::observe_latency(Route route, std::chrono::nanoseconds elapsed) noexcept {
  Latency& latency = latency_[static_cast<int>(route)];
  const double seconds = std::chrono::duration<double>(elapsed).count();
  std::size_t bucket = 0;
  while (bucket < kLatencyBounds.size() && seconds > kLatencyBounds[bucket]) ++bucket;
  latency.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  latency.sum_nanoseconds.fetch_add(static_cast<std::uint64_t>(elapsed.count()),
                                    std::memory_order_relaxed);
  latency.count.fetch_add(1, std::memory_order_relaxed);
}

void WorkerMetrics::count_recorded(std::uint64_t samples) noexcept {
  recorded_.fetch_add(samples, std::memory_order_relaxed);
}

void WorkerMetrics::count_rejected(Rejection reason) noexcept {
  rejected_[static_cast<int>(reason)].fetch_add(1, std::memory_order_relaxed);
}

std::string WorkerMetrics::render(const shm::Segment& segment) const {
  std::string out;
  auto it = [&out] { return std::back_inserter(out); };
  family(out, "servertrack_http_requests_total", "counter",
         "HTTP requests answered by this process, by route and status.");
  for (int route = 0; route < kRouteCount; ++route) {
    for (int status = 0; status < kStatusCount; ++status) {
      const auto value = requests_[route][status].load(std::memory_order_relaxed);
      if (value == 0) continue;
      fmt::format_to(it(), "servertrack_http_requests_total{{route=\"{}\",status=\"{}\"}} {}\n",
                     kRouteLabels[route], status + kMinStatus, value);
    }
  }
  family(out, "servertrack_http_request_duration_seconds", "histogram",
         "Time from routing to the handler's return, by route.");
  for (int route = 0; route < kRouteCount; ++route) {
    const Latency& latency = latency_[route];
    const auto count = latency.count.load(std::memory_order_relaxed);
    if (count == 0) continue;
    const char* label = kRouteLabels[route];
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b <= kLatencyBounds.size(); ++b) {
      cumulative += latency.buckets[b].load(std::memory_order_relaxed);
      const std::string bound = b < kLatencyBounds.size() ? fmt::format("{}", kLatencyBounds[b]) : "+Inf";
      fmt::format_to(it(),
                     "servertrack_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n",
                     label, bound, cumulative);
    }
    // The +Inf bucket is the count: a concurrent observation between the loads
    // above must not make _count disagree with it.
    fmt::format_to(it(), "servertrack_http_request_duration_seconds_sum{{route=\"{}\"}} {}\n",
                   label, static_cast<double>(latency.sum_nanoseconds.load(std::memory_order_relaxed)) / 1e9);
    fmt::format_to(it(), "servertrack_http_request_duration_seconds_count{{route=\"{}\"}} {}\n",
                   label, cumulative);
  }
  family(out, "servertrack_samples_recorded_total", "counter",
         "Samples this process wrote to the segment.");
  fmt::format_to(it(), "servertrack_samples_recorded_total {}\n",
                 recorded_.load(std::memory_order_relaxed));
  family(out, "servertrack_samples_rejected_total", "counter",
         "Samples this process refused, by reason.");
  for (int reason = 0; reason < kRejectionCount; ++reason) {
    fmt::format_to(it(), "servertrack_samples_rejected_total{{reason=\"{}\"}} {}\n",
                   kRejectionLabels[reason], rejected_[reason].load(std::memory_order_relaxed));
  }
  const shm::Counters& counters = segment.header().counters;
  family(out, "servertrack_segment_capacity_slots", "gauge", "Server slots in the shared segment.");
  fmt::format_to(it(), "servertrack_segment_capacity_slots {}\n", segment.capacity());
  family(out, "servertrack_segment_used_slots", "gauge", "Server slots in use (all processes).");
  fmt::format_to(it(), "servertrack_segment_used_slots {}\n",
                 counters.used_slots.load(std::memory_order_relaxed));
  family(out, "servertrack_segment_lock_takeovers_total", "counter",
         "Slot locks taken over from a dead writer (all processes).");
  fmt::format_to(it(), "servertrack_segment_lock_takeovers_total {}\n",
                 counters.lock_takeovers.load(std::memory_order_relaxed));
  family(out, "process_start_time_seconds", "gauge",
         "Start time of the process since the Unix epoch in seconds.");
  fmt::format_to(it(), "process_start_time_seconds {:.3f}\n", start_unix_seconds_);
  return out;
}

void mark_request_start() noexcept { request_start = std::chrono::steady_clock::now(); }

WorkerMetrics& worker_metrics() {
  static WorkerMetrics metrics;
  return metrics;
}

void add_metrics_route(httplib::Server& server, const shm::Segment& segment) {
  WorkerMetrics& metrics = worker_metrics();
  server.set_logger([&metrics](const httplib::Request& req, const httplib::Response& res) {
    const Route route = route_of(req.path);
    metrics.count_request(route, res.status);
    metrics.observe_latency(route, std::chrono::steady_clock::now() - request_start);
  });
  server.Get("/metrics", [&metrics, &segment](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics.render(segment), "text/plain; version=0.0.4; charset=utf-8");
  });
}

const char* rejection_label(Rejection reason) noexcept {
  return kRejectionLabels[static_cast<std::size_t>(reason)];
}

}  // namespace servertrack::http
