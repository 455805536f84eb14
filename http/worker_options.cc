#include "http/worker_options.h"

#include <arpa/inet.h>

#include <CLI/CLI.hpp>

#include <string>

#include "http/worker_log.h"

namespace servertrack::http {

bool is_loopback(const std::string& bind) {
  if (bind == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, bind.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, bind.c_str(), &v6) != 1) return false;
  if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
  return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
}

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
  app.add_option("--metrics-textfile", options.metrics_textfiles,
                 "a file in the Prometheus text format (the supervisor's checkpoint counters, the alert "
                 "process's) appended to GET /metrics at each scrape; repeatable; a missing file adds nothing")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->expected(1);
  app.add_option("--tokens-file", options.access.tokens_file,
                 "every route but /healthz then needs a token of this file with the route's scope "
                 "(read, write, delete, metrics) and name prefix (README: Exposing it safely); "
                 "re-read on SIGHUP");
  app.add_flag("--insecure-open", options.insecure_open,
               "serve a non-loopback --bind without --tokens-file: anyone who reaches it reads "
               "every server");
  app.add_flag("--check-tokens", options.check_tokens,
               "check the command line and the token files, then exit: 0 when they read, 2 when not");
  if (kind.peers_problem) {
    app.add_option("--peers", options.peers,
                   "every node of a sharded fleet, this one included, as NAME=HOST:QUERY_PORT,...: "
                   "GET /fleet and /servers then answer for all of them (README: More than one host)");
  }
  if (kind.process == shm::ProcessKind::query) {
    app.add_option("--alerts-file", options.alerts_file,
                   "the alert process's state file (servertrack-alert --state-file), served as GET /alerts");
  }
  if (kind.process == shm::ProcessKind::ingest) {
    auto* token = app.add_option("--ingest-token", options.access.ingest_token,
                                 "POSTs and DELETEs then need 'Authorization: Bearer <token>' (prefer "
                                 "--ingest-token-file: a command line is visible to local users)");
    app.add_option("--ingest-token-file", options.access.ingest_token_file,
                   "POSTs and DELETEs then need one of the tokens of this file, one a line; "
                   "re-read on SIGHUP")
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
  if (options.access.tokens_file.empty() && !options.insecure_open && !is_loopback(options.bind)) {
    log_line("--bind {} serves other hosts: give --tokens-file (README: Exposing it safely), or "
             "--insecure-open to let anyone who reaches it read and write every server",
             options.bind);
    return 2;
  }
  return options;
}

}  // namespace servertrack::http
