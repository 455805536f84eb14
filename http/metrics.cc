#include "http/metrics.h"

#include <fmt/format.h>

#include <fstream>
#include <iterator>
#include <stdexcept>

#include "common/clock.h"

namespace servertrack::http {
namespace {

constexpr RouteLabel kHealthz{"/healthz", "/healthz", false};
constexpr RouteLabel kMetrics{"/metrics", "/metrics", false};
constexpr RouteLabel kOther{"other", "", true};
constexpr RouteLabel kConnection{"connection", "", false};

thread_local std::chrono::steady_clock::time_point request_start;

}  // namespace

void append_family_header(std::string& out, const char* name, const char* type, const char* help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

WorkerMetrics::WorkerMetrics(std::span<const RouteLabel> worker_routes)
    : start_unix_seconds_(common::wall_clock_seconds()) {
  if (worker_routes.size() > kMaxWorkerRoutes) throw std::length_error("too many worker routes");
  routes_ = {kHealthz, kMetrics};
  routes_.insert(routes_.end(), worker_routes.begin(), worker_routes.end());
  other_ = routes_.size();
  routes_.push_back(kOther);
  connection_ = routes_.size();
  routes_.push_back(kConnection);
}

std::size_t WorkerMetrics::route_of(std::string_view path) const noexcept {
  for (std::size_t route = 0; route < other_; ++route) {
    const RouteLabel& label = routes_[route];
    if (label.prefix ? path.starts_with(label.path) : path == label.path) return route;
  }
  return other_;
}

void WorkerMetrics::count_connection_answer(int status) noexcept {
  count_request(connection_, status);
}

void WorkerMetrics::count_request(std::size_t route, int status) noexcept {
  if (status < kMinStatus || status >= kMinStatus + kStatusCount) return;
  requests_[route][status - kMinStatus].fetch_add(1, std::memory_order_relaxed);
}

void WorkerMetrics::observe_latency(std::size_t route, std::chrono::nanoseconds elapsed) noexcept {
  Latency& latency = latency_[route];
  const double seconds = std::chrono::duration<double>(elapsed).count();
  std::size_t bucket = 0;
  while (bucket < kLatencyBounds.size() && seconds > kLatencyBounds[bucket]) ++bucket;
  latency.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  latency.sum_nanoseconds.fetch_add(static_cast<std::uint64_t>(elapsed.count()),
                                    std::memory_order_relaxed);
  latency.count.fetch_add(1, std::memory_order_relaxed);
}

void WorkerMetrics::add_families(std::function<void(std::string&)> render) {
  families_.push_back(std::move(render));
}

void WorkerMetrics::add_textfile(std::string path) {
  add_families([path = std::move(path)](std::string& out) {
    std::ifstream file(path);
    out.append(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
    if (!out.empty() && out.back() != '\n') out.push_back('\n');
  });
}

std::string WorkerMetrics::render(const shm::Segment& segment) const {
  std::string out;
  auto it = [&out] { return std::back_inserter(out); };
  append_family_header(out, "servertrack_http_requests_total", "counter",
                       "HTTP requests answered by this process, by route and status.");
  for (std::size_t route = 0; route < routes_.size(); ++route) {
    for (int status = 0; status < kStatusCount; ++status) {
      const auto value = requests_[route][status].load(std::memory_order_relaxed);
      if (value == 0) continue;
      fmt::format_to(it(), "servertrack_http_requests_total{{route=\"{}\",status=\"{}\"}} {}\n",
                     routes_[route].label, status + kMinStatus, value);
    }
  }
  append_family_header(out, "servertrack_http_request_duration_seconds", "histogram",
                       "Time from routing to the handler's return, by route.");
  for (std::size_t route = 0; route < routes_.size(); ++route) {
    const Latency& latency = latency_[route];
    const auto count = latency.count.load(std::memory_order_relaxed);
    if (count == 0) continue;
    const std::string_view label = routes_[route].label;
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
  for (const auto& family : families_) family(out);
  const shm::SegmentFacts facts = segment.facts();
  append_family_header(out, "servertrack_segment_capacity_slots", "gauge",
                       "Server slots in the shared segment.");
  fmt::format_to(it(), "servertrack_segment_capacity_slots {}\n", segment.capacity());
  append_family_header(out, "servertrack_segment_used_slots", "gauge",
                       "Server slots in use (all processes).");
  fmt::format_to(it(), "servertrack_segment_used_slots {}\n",
                 facts.used_slots);
  append_family_header(out, "servertrack_segment_lock_takeovers_total", "counter",
                       "Slot locks taken over from a dead writer (all processes).");
  fmt::format_to(it(), "servertrack_segment_lock_takeovers_total {}\n",
                 facts.lock_takeovers);
  append_family_header(out, "process_start_time_seconds", "gauge",
                       "Start time of the process since the Unix epoch in seconds.");
  fmt::format_to(it(), "process_start_time_seconds {:.3f}\n", start_unix_seconds_);
  return out;
}

void mark_request_start() noexcept { request_start = std::chrono::steady_clock::now(); }

void WorkerMetrics::install(httplib::Server& server, const shm::Segment& segment) {
  server.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    const std::size_t route = route_of(req.path);
    count_request(route, res.status);
    observe_latency(route, std::chrono::steady_clock::now() - request_start);
  });
  server.Get("/metrics", [this, &segment](const httplib::Request&, httplib::Response& res) {
    res.set_content(render(segment), "text/plain; version=0.0.4; charset=utf-8");
  });
}

}  // namespace servertrack::http
