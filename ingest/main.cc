// servertrack-ingest: POST /server/<name> and POST /servers -> parse
// (simdjson) -> record() (DESIGN.md, README). A GET sent here is redirected
// (307) to the query worker.
#include <utility>
#include <variant>

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
  // run_worker() hands its routes only the server and the segment, so the
  // token is taken from a first parse of the same command line.
  auto parsed = servertrack::http::parse_worker_options(argc, argv, kIngest);
  if (const int* exit_code = std::get_if<int>(&parsed)) return *exit_code;
  std::string token = std::move(std::get<servertrack::http::WorkerOptions>(parsed).ingest_token);
  return servertrack::http::run_worker(
      argc, argv, kIngest,
      [token = std::move(token)](httplib::Server& server, servertrack::shm::Segment& segment) {
        servertrack::ingest::add_ingest_routes(server, segment, token);
      });
}
