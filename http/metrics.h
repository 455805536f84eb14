// The worker's own metrics, served as GET /metrics in the Prometheus text
// exposition format 0.0.4: requests by route and status, a latency histogram
// by route, samples recorded and rejected (by reason) by this process, the
// segment's capacity, used slots and lock takeovers, the process start time.
//
// One WorkerMetrics per process (worker_metrics()). Counting is lock-free
// (relaxed atomics, no allocation) and may happen on any connection thread;
// rendering /metrics is a cold path that builds one string.
//
// Hooked from the workers' own routes: add_metrics_route() installs the
// server's logger, which counts and times every request cpp-httplib answered
// (also its own errors, 404s and /healthz): from mark_request_start(), which
// the worker calls as a handler thread takes a request, to the response
// written to the connection's buffer. Time queued before a handler thread was
// free is not included. What the connection layer answers itself (400/413/431
// while framing, 408, 503 when overloaded) is counted under route
// "connection" by count_request() from the event loop, untimed.
#pragma once

#include <httplib.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "shm/segment.h"

namespace servertrack::http {

// Route::connection: answered by the connection layer before any route.
enum class Route { root, healthz, metrics, server, servers, fleet, other, connection };
inline constexpr int kRouteCount = 8;

enum class Rejection {
  invalid_json,     // a body that is not JSON of the expected shape
  invalid_name,     // not 1..64 characters of [A-Za-z0-9_]
  invalid_value,    // cpu/ram missing, not a number, negative or not finite
  table_full,       // a new name and no free slot
  duplicate_name,   // the same name twice in one batch
  unreadable_body,  // too large (413) or cut short
  slot_busy,        // the server's slot stayed locked by a live process (503)
};
inline constexpr int kRejectionCount = 7;

// The reason as /metrics labels it and the batch answer spells it, e.g. "invalid_name".
const char* rejection_label(Rejection reason) noexcept;

// Upper bounds of the latency histogram, in seconds (+Inf is implied).
inline constexpr std::array<double, 12> kLatencyBounds = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0};

// The route label of a request path, e.g. "/server/a" -> Route::server.
Route route_of(std::string_view path) noexcept;

class WorkerMetrics {
 public:
  WorkerMetrics();

  void count_request(Route route, int status) noexcept;
  void observe_latency(Route route, std::chrono::nanoseconds elapsed) noexcept;
  void count_recorded(std::uint64_t samples) noexcept;
  void count_rejected(Rejection reason) noexcept;

  // The whole exposition, segment gauges read at call time.
  std::string render(const shm::Segment& segment) const;

 private:
  static constexpr int kMinStatus = 100;
  static constexpr int kStatusCount = 500;  // 100..599
  struct Latency {
    std::array<std::atomic<std::uint64_t>, kLatencyBounds.size() + 1> buckets{};  // not cumulative
    std::atomic<std::uint64_t> count{0};
    std::atomic<std::uint64_t> sum_nanoseconds{0};
  };

  const double start_unix_seconds_;
  std::array<std::array<std::atomic<std::uint64_t>, kStatusCount>, kRouteCount> requests_{};
  std::array<Latency, kRouteCount> latency_{};
  std::atomic<std::uint64_t> recorded_{0};
  std::array<std::atomic<std::uint64_t>, kRejectionCount> rejected_{};
};

// This process's metrics.
WorkerMetrics& worker_metrics();

// Marks the start of the request the calling handler thread is about to
// serve; the logger of add_metrics_route() times the answer from here.
void mark_request_start() noexcept;

// Installs the request-counting logger and GET /metrics. Called once from a
// worker's add_routes; `segment` outlives the server.
void add_metrics_route(httplib::Server& server, const shm::Segment& segment);

}  // namespace servertrack::http
