// servertrack-query: GET /server/<name> -> snapshot() -> JSON (docs/design.md).
// A POST sent here is redirected (307) to the ingest worker.
#include "http/worker.h"
#include "query/query_routes.h"

int main(int argc, char** argv) {
  using servertrack::http::WorkerKind;
  static constexpr WorkerKind kQuery{
      .process = servertrack::shm::ProcessKind::query,
      .program = "servertrack-query",
      .summary = "ServerTrack query worker: answers GET /server/<name> from the shared segment",
      .default_port = 8888,
      .sibling_default_port = 8889,
      .redirects_get = false,
  };
  return servertrack::http::run_worker(
      argc, argv, kQuery,
      [](httplib::Server& server, servertrack::shm::Segment& segment,
         const servertrack::http::WorkerOptions&) {
        servertrack::query::add_query_routes(server, segment);
      });
}
