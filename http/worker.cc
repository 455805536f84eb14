#include "http/worker.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <stop_token>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "common/clock.h"
#include "common/defaults.h"
#include "common/json_string.h"
#include "common/port_claim.h"
#include "common/segment_advice.h"
#include "http/error_responses.h"
#include "http/event_loop.h"
#include "http/keep_alive.h"
#include "http/answer.h"
#include "http/listening_socket.h"
#include "http/metrics.h"
#include "http/request_body.h"
#include "http/sibling.h"
#include "http/status_answers.h"
#include "http/serving_threads.h"
#include "http/stop_on_signal.h"
#include "http/worker_log.h"

namespace servertrack::http {
namespace {

// A stopping worker finishes its requests in half a second less than the
// supervisor waits before SIGKILL (common/defaults.ini, stop_grace_ms).
constexpr auto kGracefulStopDeadline = common::kStopGrace - std::chrono::milliseconds(500);

// Exposes cpp-httplib's protected process_request() to the event loop, which
// owns the sockets; routing, handlers, logger and error handlers run as usual.
class WorkerServer : public httplib::Server {
 public:
  bool serve_request(httplib::Stream& stream, bool close_connection, bool& connection_closed) {
    mark_request_start();
    // The event loop has already answered "Expect: 100-continue" (or the body
    // came with the headers); cpp-httplib must not send a second 100.
    return process_request(stream, close_connection, connection_closed,
                           [](httplib::Request& request) { request.headers.erase("Expect"); });
  }
};

// For the start-up line: what guards the routes (never a token).
std::string describe_access(const AccessPolicy& access, const WorkerOptions& options) {
  if (access.guards_everything()) return "every route but /healthz needs a token of --tokens-file";
  const bool ingest_tokens = !options.access.ingest_token.empty() || !options.access.ingest_token_file.empty();
  const std::string guarded = ingest_tokens ? "POST and DELETE need an ingest token, GETs are open"
                                            : "no token needed";
  return options.insecure_open ? guarded + "; OPEN to other hosts (--insecure-open)" : guarded;
}

std::string bracketed_host(const std::string& host) {
  return host.find(':') == std::string::npos ? host : "[" + host + "]";
}

std::string server_header(const WorkerKind& kind) {
  return std::string(kind.program) + " (pid " + std::to_string(getpid()) + ")";
}

void tune(httplib::Server& server, const WorkerKind& kind, const AccessPolicy& access) {
  server.set_payload_max_length(kMaxBodyBytes);
  // Both only shape the Keep-Alive response header; the event loop enforces them.
  server.set_keep_alive_timeout(std::chrono::seconds(kKeepAliveTimeout).count());
  server.set_keep_alive_max_count(kKeepAliveMaxRequests);
  server.set_default_headers({{"Server", server_header(kind)}});
  server.set_exception_handler(answer_exception);
  server.set_error_handler(httplib::Server::HandlerWithResponse(fill_error_body));
  server.set_pre_routing_handler(
      [other_methods = refuse_other_methods(kind.deletes_servers), &access](
          const httplib::Request& request, httplib::Response& response) {
        return other_methods(request, response) == httplib::Server::HandlerResponse::Handled
                   ? httplib::Server::HandlerResponse::Handled
                   : refuse_unauthorized(access, request, response);
      });
}

void add_healthz(httplib::Server& server, const WorkerOptions& options, const WorkerKind& kind) {
  const std::string segment_path = shm::Segment::path_of(options.segment);
  const std::string healthy = "{\"status\": \"ok\", \"kind\": \"" + std::string(kind.program) +
                              "\", \"pid\": " + std::to_string(getpid()) +
                              ", \"segment\": " + common::json_string(options.segment) + "}";
  server.Get("/healthz", [segment_path, healthy](const httplib::Request&, httplib::Response& res) {
    struct stat status;
    if (::stat(segment_path.c_str(), &status) != 0) {
      set_json_error(res, 503, "the shared segment " + segment_path +
                                   " was removed; recreate it and restart the workers");
      return;
    }
    res.set_content(healthy, "application/json");
  });
}

// The catch-all routes, added after the worker's own: the sibling's method is
// redirected, anything else is 404. Bodies are read (bounded) before
// answering, so the keep-alive connection stays in step.
void add_fallbacks(httplib::Server& server, const WorkerOptions& options, const WorkerKind& kind) {
  auto redirect = [sibling_url = options.sibling_url, fallback = bracketed_host(options.bind),
                   port = kind.sibling_default_port](const httplib::Request& req,
                                                     httplib::Response& res) {
    res.set_redirect(
        sibling_location(sibling_url, req.get_header_value("Host"), fallback, port, req.target),
        307);
  };
  if (kind.redirects_get) server.Get(".*", redirect);
  server.Post(".*", [redirect, redirects_post = !kind.redirects_get](
                        const httplib::Request& req, httplib::Response& res,
                        const httplib::ContentReader& reader) {
    thread_local RequestBody discarded(0);
    if (!read_request_body(reader, res, discarded)) return;
    if (redirects_post) {
      redirect(req, res);
    } else {
      set_json_error(res, 404, kNoSuchPathMessage);
    }
  });
}

// Where the process starts listening: --threads sockets on one port
// (SO_REUSEPORT; the first picks the port when asked for 0), all or none.
struct Listeners {
  std::vector<int> fds;
  int port;
};

std::variant<Listeners, std::string> open_listeners(const WorkerOptions& options) {
  std::vector<int> fds;
  int port = options.port;
  for (int n = 0; n < options.threads; ++n) {
    auto opened = open_listening_socket(options.bind, port, kListenBacklog);
    if (const std::string* error = std::get_if<std::string>(&opened)) {
      for (const int fd : fds) ::close(fd);
      return *error;
    }
    fds.push_back(std::get<ListeningSocket>(opened).fd);
    port = std::get<ListeningSocket>(opened).port;
  }
  return Listeners{.fds = std::move(fds), .port = port};
}

// Watches the segment while the worker serves: once a grow has replaced it
// (shm/grow.h, step 5), stops the serving threads so the worker leaves with
// kExitSegmentReplaced and its successor attaches the larger segment.
class ReplacementWatch {
 public:
  ReplacementWatch(const shm::Segment& segment, ServingThreads& threads)
      : thread_([&segment, &threads, this](std::stop_token stop) {
          while (!stop.stop_requested() && !segment.superseded()) {
            std::this_thread::sleep_for(kReplacementPoll);
          }
          if (stop.stop_requested()) return;
          replaced_ = true;
          log_line("the segment was grown into a larger one; leaving so that a worker attached to it takes over");
          threads.stop();
        }) {}
  bool replaced() const noexcept { return replaced_; }

 private:
  static constexpr std::chrono::milliseconds kReplacementPoll{50};
  std::atomic<bool> replaced_{false};
  std::jthread thread_;
};

int serve(WorkerServer& server, FastPath& fast, WorkerMetrics& metrics, AccessPolicy& access,
          const WorkerOptions& options, const WorkerKind& kind, const shm::Segment& segment) {
  // Held until the process exits: no worker of another segment may join this port.
  auto claimed = common::PortClaim::claim(options.port, options.segment,
                                         [](const std::string& waiting) { log_line("{}", waiting); });
  if (const std::string* refused = std::get_if<std::string>(&claimed)) {
    log_line("{}", *refused);
    return common::kExitPortUnavailable;
  }
  auto opened = open_listeners(options);
  if (const std::string* error = std::get_if<std::string>(&opened)) {
    log_line("{} (is the address valid and the port free?)", *error);
    return 1;
  }
  const Listeners& listeners = std::get<Listeners>(opened);
  ServingThreads threads(
      listeners.fds,
      [&server, &fast](BufferedStream& stream, bool close_connection, bool& connection_closed) {
        return fast.serve(stream.request(), close_connection, stream.output(), connection_closed)
                   ? !connection_closed
                   : server.serve_request(stream, close_connection, connection_closed);
      },
      [&access, header = server_header(kind)](std::string_view head) {
        return refusal_for_head(access, head, header);
      },
      server_header(kind), metrics);
  StopOnSignal stop_on_signal(
      [&threads](int signal_number) {
        log_line("signal {}: stopping; finishing requests in flight", signal_number);
        threads.stop();
      },
      kGracefulStopDeadline, [](std::string_view line) { log_line("{}", line); },
      [&access] { log_line("SIGHUP: tokens {}", access.reload()); });
  log_line("listening on http://{}:{} ({} event loops; {})", bracketed_host(options.bind),
           listeners.port, listeners.fds.size(), describe_access(access, options));
  ReplacementWatch watch(segment, threads);
  threads.run();
  log_line("stopped");
  return watch.replaced() ? kExitSegmentReplaced : 0;
}

}  // namespace

int run_worker(int argc, char** argv, const WorkerKind& kind, const AddRoutes& add_routes) {
  block_worker_signals();
  set_log_identity(kind.name, 1);
  auto parsed = parse_worker_options(argc, argv, kind);
  if (const int* exit_code = std::get_if<int>(&parsed)) return *exit_code;
  const WorkerOptions& options = std::get<WorkerOptions>(parsed);
  auto loaded = AccessPolicy::load(options.access);
  if (const std::string* error = std::get_if<std::string>(&loaded)) {
    log_line("{}", *error);
    return 2;
  }
  AccessPolicy& access = *std::get<std::unique_ptr<AccessPolicy>>(loaded);
  if (options.check_tokens) return 0;
  try {
    // Read-write for both kinds: the query worker registers too, and may repair a
    // slot whose writer died mid-write instead of answering 503.
    shm::Segment segment = shm::Segment::attach({.name = options.segment});
    if (!segment.register_process(kind.process, common::wall_clock_unix_seconds())) {
      log_line("the segment's process registry is full; serving unregistered");
    }
    WorkerServer server;
    WorkerMetrics metrics(kind.routes);
    for (const std::string& textfile : options.metrics_textfiles) metrics.add_textfile(textfile);
    tune(server, kind, access);
    add_healthz(server, options, kind);
    metrics.install(server, segment);
    FastPath fast(metrics, access, server_header(kind));
    add_routes(server, fast.routes(), segment, metrics, access, options);
    add_fallbacks(server, options, kind);
    return serve(server, fast, metrics, access, options, kind, segment);
  } catch (const shm::SegmentError& error) {
    log_line("{}", common::with_remedy(error));
    return 1;
  }
}

}  // namespace servertrack::http
