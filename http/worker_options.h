// The command line shared by both workers (CLI11) and what each kind of
// worker is: its program name, default port and its sibling's.
//
// Called once from main() before any thread starts; sets the log's identity
// (http/worker_log.h).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/defaults.h"
#include "http/access_policy.h"
#include "http/metrics.h"
#include "shm/segment.h"

namespace servertrack::http {

struct WorkerKind {
  shm::ProcessKind process;
  std::string_view name;         // e.g. "ingest", as the log and the supervisor say it
  std::string_view program;      // e.g. "servertrack-ingest"
  std::string_view summary;      // one line for --help
  int default_port;
  int sibling_default_port;      // where requests of the other method belong
  bool redirects_get;            // true: GETs go to the sibling; false: POSTs do
  bool deletes_servers;          // answers DELETE /server/<name> (the ingest worker)
  std::span<const RouteLabel> routes;  // the worker's own routes, as /metrics labels them
  // Non-null: the worker takes --peers (the query worker, query/peers.h); says
  // what is wrong with a value, "" when nothing is.
  std::string (*peers_problem)(const std::string& peers) = nullptr;
};

struct WorkerOptions {
  std::string bind{common::kDefaultBind};
  int port = 0;
  std::string segment{common::kDefaultSegment};
  int threads = 2;  // event loops; one per core the worker may use (docs/design.md, "The connection layer")
  int worker_id = 1;        // among the workers of its kind, for the log
  std::string sibling_url;  // empty: the request's host, the sibling's default port
  // Files appended to /metrics at each scrape (the supervisor's checkpoint
  // counters, the alert process's): --metrics-textfile, repeatable.
  std::vector<std::string> metrics_textfiles;
  // The query worker's --alerts-file: the alert process's state, GET /alerts
  // (alert/alert_book.h); empty: the appliance runs no alert process.
  std::string alerts_file;
  // --tokens-file, and (ingest only) --ingest-token / --ingest-token-file:
  // read by the access policy (http/access_policy.h); tokens are never logged.
  AccessSources access;
  // --insecure-open: serve a non-loopback --bind without a tokens file.
  bool insecure_open = false;
  // --check-tokens: read the token files, say whether they read, exit (the supervisor's check).
  bool check_tokens = false;
  std::string peers;  // --peers, checked by kind.peers_problem; "" for none
};

// True for 127.0.0.0/8, ::1, ::ffff:127.x.y.z and "localhost".
bool is_loopback(const std::string& bind);

// The ingest worker also takes --ingest-token / --ingest-token-file. A
// non-loopback --bind needs --tokens-file or --insecure-open.
// The parsed options, or the exit code to return when the command line asked
// for --help or was wrong (the message is already printed).
std::variant<WorkerOptions, int> parse_worker_options(int argc, char** argv,
                                                      const WorkerKind& kind);

}  // namespace servertrack::http
