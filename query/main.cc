// servertrack-query: GET /server/<name> -> snapshot() -> JSON (docs/design.md).
// A POST sent here is redirected (307) to the ingest worker.
#include "common/defaults.h"
#include "http/sibling.h"
#include "http/worker.h"
#include "query/peers.h"
#include "query/query_routes.h"

int main(int argc, char** argv) {
  using servertrack::http::WorkerKind;
  static constexpr WorkerKind kQuery{
      .process = servertrack::shm::ProcessKind::query,
      .name = "query",
      .program = "servertrack-query",
      .summary = "ServerTrack query worker: answers GET /server/<name> from the shared segment",
      .default_port = servertrack::common::kDefaultQueryPort,
      .sibling_default_port = servertrack::common::kDefaultIngestPort,
      .redirects_get = false,
      .deletes_servers = false,
      .routes = servertrack::query::kQueryRouteLabels,
      .peers_problem = [](const std::string& peers) -> std::string {
        auto parsed = servertrack::query::parse_peers(peers);
        const std::string* problem = std::get_if<std::string>(&parsed);
        return problem ? *problem : "";
      },
  };
  return servertrack::http::run_worker(
      argc, argv, kQuery,
      [](httplib::Server& server, servertrack::http::FastRoutes& fast,
         servertrack::shm::Segment& segment, servertrack::http::WorkerMetrics&,
         const servertrack::http::AccessPolicy& access, const servertrack::http::WorkerOptions& options) {
        servertrack::query::add_query_routes(
            server, fast, segment, access,
            [sibling_url = options.sibling_url, bind = options.bind](const httplib::Request& req) {
              return servertrack::http::sibling_location(sibling_url, req.get_header_value("Host"), bind,
                                                         kQuery.sibling_default_port, "");
            },
            std::get<std::vector<servertrack::query::Peer>>(servertrack::query::parse_peers(options.peers)),
            options.alerts_file);
      });
}
