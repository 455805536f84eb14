// The fast path of a worker: requests parse_fast_request() accepts
// (http/fast_request.h) go to the worker's handler for their shape and are
// answered with append_response() (http/answer.h), counted and timed in
// /metrics like any other request, and also in
// servertrack_http_fast_path_requests_total; everything else, whatever the
// access policy refuses (http/access_policy.h: cpp-httplib's path answers and
// logs the refusal) and whatever a handler declines, goes to cpp-httplib. On the POST benchmark this is what separates
// the appliance from the kernel's limit (README, "Performance").
//
// Set up once by run_worker() before serving; serve() is called on event loop
// threads, concurrently. A handler must be thread-safe and must decline
// (nullopt) before it changes anything: a declined request is served again,
// the general way.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "http/access_policy.h"
#include "http/answer.h"
#include "http/fast_request.h"
#include "http/metrics.h"

namespace servertrack::http {

using FastHandler = std::function<std::optional<Answer>(const FastRequest& request)>;

// The handlers a worker gives the fast path; an empty one declines its shape.
struct FastRoutes {
  FastHandler get_server;   // GET /server/<name>
  FastHandler post_server;  // POST /server/<name>
};

class FastPath {
 public:
  // Adds its counter to `metrics`; `metrics` and `access` live as long as the worker.
  FastPath(WorkerMetrics& metrics, const AccessPolicy& access, std::string server_header);

  FastRoutes& routes() { return routes_; }

  // Answers the framed `request` into `output` and returns true, or returns
  // false having written nothing. `closing`: the worker is stopping.
  // `connection_closed` is set when the response says Connection: close.
  bool serve(std::string_view request, bool closing, std::string& output, bool& connection_closed);

 private:
  WorkerMetrics& metrics_;
  const AccessPolicy& access_;
  std::string server_header_;
  std::size_t route_;  // "/server/<name>" in the metrics
  FastRoutes routes_;
  std::atomic<std::uint64_t> answered_{0};
};

}  // namespace servertrack::http
