// servertrack-ingest: POST /server/<name> and POST /servers -> parse
// (simdjson) -> record() (docs/design.md, README). A GET sent here is redirected
// (307) to the query worker.
#include "common/defaults.h"
#include "http/worker.h"
#include "ingest/ingest_routes.h"

int main(int argc, char** argv) {
  using servertrack::http::WorkerKind;
  static constexpr WorkerKind kIngest{
      .process = servertrack::shm::ProcessKind::ingest,
      .name = "ingest",
      .program = "servertrack-ingest",
      .summary = "ServerTrack ingest worker: records POST /server/<name> samples in the shared "
                 "segment",
      .default_port = servertrack::common::kDefaultIngestPort,
      .sibling_default_port = servertrack::common::kDefaultQueryPort,
      .redirects_get = true,
      .deletes_servers = true,
      .routes = servertrack::ingest::kIngestRouteLabels,
  };
  return servertrack::http::run_worker(
      argc, argv, kIngest,
      [](httplib::Server& server, servertrack::http::FastRoutes& fast,
         servertrack::shm::Segment& segment, servertrack::http::WorkerMetrics& metrics,
         const servertrack::http::AccessPolicy& access, const servertrack::http::WorkerOptions&) {
        servertrack::ingest::add_ingest_routes(server, fast, segment, metrics, access);
      });
}
