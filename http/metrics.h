// The worker's own metrics, served as GET /metrics in the Prometheus text
// exposition format 0.0.4: requests by route and status, a latency histogram
// by route, the families the worker adds (the ingest worker's sample
// counters), the segment's capacity, used slots and lock takeovers, the
// process start time.
//
// One WorkerMetrics per worker process, made by run_worker() and handed to the
// worker's routes; the connection layer sees it only as ConnectionCounters.
// Counting is lock-free (relaxed atomics, no allocation) and may happen on any
// connection thread; rendering /metrics is a cold path that builds one string.
//
// install() sets the server's logger, which counts and times every request
// cpp-httplib answered (also its own errors, 404s and /healthz): from
// mark_request_start(), which the worker calls as a thread starts serving a
// request, to the response written to the connection's buffer. What the
// connection layer answers itself (400/413/431 while framing, 408, 503 when a
// loop is behind) is counted under route "connection", untimed.
#pragma once

#include <httplib.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "http/connection_counters.h"
#include "shm/segment.h"

namespace servertrack::http {

// One of the worker's own routes as /metrics labels it: requests whose path is
// `path` (or starts with it, when `prefix`) count under `label`.
struct RouteLabel {
  std::string_view label;  // e.g. "/server/<name>"
  std::string_view path;   // e.g. "/server/"
  bool prefix;
};

// Upper bounds of the latency histogram, in seconds (+Inf is implied).
inline constexpr std::array<double, 12> kLatencyBounds = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0};

// Routes a worker may name besides /healthz, /metrics, "other" and "connection".
inline constexpr std::size_t kMaxWorkerRoutes = 8;

class WorkerMetrics final : public ConnectionCounters {
 public:
  explicit WorkerMetrics(std::span<const RouteLabel> worker_routes);

  void count_connection_answer(int status) noexcept override;
  // The route index of a request path, for count_request/observe_latency.
  std::size_t route_of(std::string_view path) const noexcept;
  void count_request(std::size_t route, int status) noexcept;
  void observe_latency(std::size_t route, std::chrono::nanoseconds elapsed) noexcept;

  // Families the worker renders after the HTTP ones (appends to the exposition).
  void add_families(std::function<void(std::string&)> render);

  // Appends the content of the file at `path` (Prometheus text written by
  // another process) at each render; a missing or unreadable file adds nothing.
  // Called once at start-up; each scrape reads the file (a cold path).
  void add_textfile(std::string path);

  // The whole exposition, segment gauges read at call time.
  std::string render(const shm::Segment& segment) const;

  // The request-counting logger and GET /metrics. Called once by run_worker(),
  // before the worker's own routes; `segment` outlives the server.
  void install(httplib::Server& server, const shm::Segment& segment);

 private:
  static constexpr int kMinStatus = 100;
  static constexpr int kStatusCount = 500;  // 100..599
  static constexpr std::size_t kMaxRoutes = kMaxWorkerRoutes + 4;
  struct Latency {
    std::array<std::atomic<std::uint64_t>, kLatencyBounds.size() + 1> buckets{};  // not cumulative
    std::atomic<std::uint64_t> count{0};
    std::atomic<std::uint64_t> sum_nanoseconds{0};
  };

  std::vector<RouteLabel> routes_;  // http's and the worker's, then "other", then "connection"
  std::size_t other_;
  std::size_t connection_;
  const double start_unix_seconds_;
  std::array<std::array<std::atomic<std::uint64_t>, kStatusCount>, kMaxRoutes> requests_{};
  std::array<Latency, kMaxRoutes> latency_{};
  std::vector<std::function<void(std::string&)>> families_;
};

// Marks the start of the request the calling thread is about to serve; the
// logger of install() times the answer from here.
void mark_request_start() noexcept;

// Appends "# HELP name help\n# TYPE name type\n".
void append_family_header(std::string& out, const char* name, const char* type, const char* help);

}  // namespace servertrack::http
