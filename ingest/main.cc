// servertrack-ingest: POST /server/<name> and POST /servers -> parse
// (simdjson) -> record() (docs/design.md, README). A GET sent here is redirected
// (307) to the query worker.
#include "http/worker.h"
#include "ingest/ingest_routes.h"

int main(int argc, char** argv) {
  using servertrack::http::WorkerKind;
  static constexpr WorkerKind kIngest{
      .process = servertrack::shm::ProcessKind::ingest,
      .program = "servertrack-ingest",
      .summary = "ServerTrack ingest worker: records POST /server/<name> samples in the shared "
                 "segment",
      .default_port = 8889,
      .sibling_default_port = 8888,
      .redirects_get = true,
  };
  return servertrack::http::run_worker(
      argc, argv, kIngest,
      [](httplib::Server& server, servertrack::shm::Segment& segment,
         const servertrack::http::WorkerOptions& options) {
        servertrack::ingest::add_ingest_routes(server, segment, options.ingest_token);
      });
}
