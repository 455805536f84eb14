// The life of a worker process, shared by servertrack-ingest and
// servertrack-query: parse the command line, attach and register in the
// segment, configure the HTTP server, serve until SIGTERM, exit.
//
// Called once from main(). The server it builds:
// - serves the hot GET and POST /server/<name> on the fast path
//   (http/fast_path.h), everything else through cpp-httplib;
// - checks every request's token against the route's scope before any route
//   sees it (http/access_policy.h), and reloads the tokens on SIGHUP;
// - serves GET /healthz, redirects the sibling's method (307) and answers
//   every error with the JSON error body, never with exception text;
// - serves connections with --threads event loops (at most 64), each a thread
//   with its own listening socket that serves the requests it reads (see
//   http/event_loop.h for framing limits, timeouts, overload, slow requests and
//   the memory bound), TCP_NODELAY, and a listen backlog of kListenBacklog;
// - counts and times its requests (http/metrics.h, GET /metrics) and logs
//   every line through http/worker_log.h;
// - shares its port with other workers of its kind (SO_REUSEPORT, on purpose:
//   that is how a kind scales out over processes).
#pragma once

#include <httplib.h>

#include <functional>

#include "http/access_policy.h"
#include "http/fast_path.h"
#include "http/metrics.h"
#include "http/worker_options.h"
#include "shm/segment.h"

namespace servertrack::http {

inline constexpr int kListenBacklog = 4096;
// The exit code of a worker whose segment a grow replaced (shm/grow.h): the
// supervisor starts it again at once, attached to the larger segment.
inline constexpr int kExitSegmentReplaced = 75;  // EX_TEMPFAIL

// Adds the worker's own routes. Called once, before the server starts; the
// segment, the metrics and the options outlive the server, and the segment may
// be used from any connection thread.
// The handlers of `fast` serve the hot request shapes without cpp-httplib
// (http/fast_path.h); the server's routes must answer the same requests alike.
// Every request a route sees has passed the access policy's check
// (http/access_policy.h); a route asks it again for the token's label or name
// prefix (a listing shows only the names the token may see).
using AddRoutes = std::function<void(httplib::Server&, FastRoutes& fast, shm::Segment&,
                                     WorkerMetrics&, const AccessPolicy&, const WorkerOptions&)>;

// Returns the process exit code: 0 after a graceful stop, 1 when the segment
// cannot be attached or the port cannot be bound, 2 for a wrong command line
// or a tokens file that does not read, kExitSegmentReplaced after a grow.
int run_worker(int argc, char** argv, const WorkerKind& kind, const AddRoutes& add_routes);

}  // namespace servertrack::http
