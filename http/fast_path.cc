#include "http/fast_path.h"

#include <chrono>

namespace servertrack::http {

FastPath::FastPath(WorkerMetrics& metrics, const AccessPolicy& access, std::string server_header)
    : metrics_(metrics), access_(access), server_header_(std::move(server_header)), route_(metrics.route_of("/server/")) {
  metrics.add_families([this](std::string& out) {
    append_family_header(out, "servertrack_http_fast_path_requests_total", "counter",
                         "Requests answered on the fast path, without cpp-httplib (also counted "
                         "in servertrack_http_requests_total).");
    out.append("servertrack_http_fast_path_requests_total ")
        .append(std::to_string(answered_.load(std::memory_order_relaxed)))
        .append("\n");
  });
}

bool FastPath::serve(std::string_view request, bool closing, std::string& output,
                     bool& connection_closed) {
  const auto start = std::chrono::steady_clock::now();
  const std::optional<FastRequest> parsed = parse_fast_request(request);
  if (!parsed) return false;
  const FastHandler& handler = parsed->post ? routes_.post_server : routes_.get_server;
  if (!handler) return false;
  if (!access_.decide(parsed->post ? "POST" : "GET", parsed->path, parsed->authorization,
                      parsed->authorization_count)
           .allowed()) {
    return false;
  }
  const std::optional<Answer> answer = handler(*parsed);
  if (!answer) return false;
  connection_closed = closing || parsed->close;
  append_response(output, *answer, server_header_, !connection_closed);
  answered_.fetch_add(1, std::memory_order_relaxed);
  metrics_.count_request(route_, answer->status);
  metrics_.observe_latency(route_, std::chrono::steady_clock::now() - start);
  return true;
}

}  // namespace servertrack::http
