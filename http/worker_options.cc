#include "http/worker_options.h"

#include <CLI/CLI.hpp>

#include <string>

#include "http/worker_log.h"
#include "http/token_file.h"

namespace servertrack::http {

std::variant<WorkerOptions, int> parse_worker_options(int argc, char** argv,
                                                      const WorkerKind& kind) {
  WorkerOptions options;
  options.port = kind.default_port;
  CLI::App app(std::string(kind.summary), std::string(kind.program));
  app.add_option("--bind", options.bind, "address to listen on")->capture_default_str();
  app.add_option("--port", options.port,
                 "TCP port; several workers of one kind may share it (SO_REUSEPORT); 0: any")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  app.add_option("--segment", options.segment, "shared-memory segment to attach (shmtool create)")
      ->capture_default_str();
  app.add_option("--threads", options.threads,
                 "event loops, each a thread with its own listening socket serving its "
                 "connections; idle and slow connections hold none")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--worker-id", options.worker_id,
                 "this worker's number among those of its kind, for the log (the supervisor's)")
      ->capture_default_str()
      ->check(CLI::Range(1, 9999));
  app.add_option("--sibling-url", options.sibling_url,
                 "base URL the 307 redirects point to, e.g. http://host:8888 "
                 "(default: the request's host on the sibling's default port)");
  app.add_option("--metrics-textfile", options.metrics_textfile,
                 "a file in the Prometheus text format (the supervisor's checkpoint counters) "
                 "appended to GET /metrics at each scrape; a missing file adds nothing");
  if (kind.peers_problem) {
    app.add_option("--peers", options.peers,
                   "every node of a sharded fleet, this one included, as NAME=HOST:QUERY_PORT,...: "
                   "GET /fleet and /servers then answer for all of them (README: More than one host)");
  }
  std::string token_file;
  if (kind.process == shm::ProcessKind::ingest) {
    auto* token = app.add_option("--ingest-token", options.ingest_token,
                                 "POSTs then need 'Authorization: Bearer <token>' (prefer "
                                 "--ingest-token-file: a command line is visible to local users)");
    app.add_option("--ingest-token-file", token_file,
                   "read the ingest token from the first line of this file")
        ->excludes(token);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }
  set_log_identity(kind.name, options.worker_id);
  if (kind.peers_problem) {
    if (const std::string problem = kind.peers_problem(options.peers); !problem.empty()) {
      log_line("{}", problem);
      return 2;
    }
  }
  if (!token_file.empty()) {
    options.ingest_token = read_token_file(token_file);
    if (options.ingest_token.empty()) {
      log_line("--ingest-token-file: cannot read a token from {} (missing, unreadable or empty "
               "first line)", token_file);
      return 2;
    }
  }
  return options;
}

}  // namespace servertrack::http
