// libFuzzer target, differential: http::parse_fast_request(), the fast path's
// reader of GET and POST /server/<name> (http/fast_request.h), against
// cpp-httplib, which serves every request the fast path declines. The input
// is framed as the event loop frames it (http::frame_request); when the fast
// parser accepts the frame, cpp-httplib's process_request() reads the same
// bytes with the worker's routes pattern and request set-up.
//
// Properties checked on every accepted frame (besides no crash, leak or UB):
// - the name follows the name rule, and the body is the end of the frame;
// - cpp-httplib routes it to the same method of the /server/ route, with the
//   same name, the same body, the same first Authorization value and number
//   of Authorization headers, and closes the connection exactly when the fast
//   parser says "close".
#include <httplib.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/fast_request.h"
#include "http/request_framer.h"
#include "http/server_path.h"
#include "shm/name.h"
#include "tests/fuzz/connection_bytes.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using servertrack::fuzz::ConnectionBytes;
using servertrack::fuzz::require;
namespace http = servertrack::http;

// What cpp-httplib made of one request.
struct Seen {
  bool routed = false;  // reached the /server/ route
  bool post = false;
  std::string name;
  std::string body;
  std::string authorization;
  std::size_t authorization_count = 0;
};

class RecordingServer final : public httplib::Server {
 public:
  RecordingServer() {
    set_payload_max_length(http::kMaxBodyBytes);
    Get(http::kServerRoute, [this](const httplib::Request& req, httplib::Response& res) {
      record(req, false);
      res.status = 204;
    });
    Post(http::kServerRoute, [this](const httplib::Request& req, httplib::Response& res,
                                    const httplib::ContentReader& reader) {
      record(req, true);
      reader([this](const char* data, std::size_t length) {
        seen_.body.append(data, length);
        return true;
      });
      res.status = 204;
    });
  }

  // Serves one request as the worker does (Expect already answered).
  Seen serve(std::string_view request, bool& connection_closed) {
    seen_ = Seen{};
    ConnectionBytes connection(request);
    connection_closed = false;
    process_request(connection, false, connection_closed,
                    [](httplib::Request& req) { req.headers.erase("Expect"); });
    return seen_;
  }

 private:
  void record(const httplib::Request& req, bool post) {
    seen_.routed = true;
    seen_.post = post;
    seen_.name = http::server_name(req);
    const auto range = req.headers.equal_range("Authorization");
    seen_.authorization_count = static_cast<std::size_t>(std::distance(range.first, range.second));
    if (range.first != range.second) seen_.authorization = range.first->second;
  }

  Seen seen_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static RecordingServer server;
  const std::string_view received(reinterpret_cast<const char*>(data), size);
  const http::Frame frame = http::frame_request(received);
  if (frame.status != http::FrameStatus::complete) return 0;
  const std::string_view framed = received.substr(0, frame.length);
  const auto fast = http::parse_fast_request(framed);
  if (!fast) return 0;
  require(servertrack::shm::is_valid_name(fast->name), "an accepted name follows the name rule");
  require(framed.ends_with(fast->body), "the body is the end of the frame");
  bool closed = false;
  const Seen seen = server.serve(framed, closed);
  require(seen.routed, "cpp-httplib routes an accepted request to /server/<name>");
  require(seen.post == fast->post, "both read the same method");
  require(seen.name == fast->name, "both read the same name");
  require(seen.body == fast->body, "both read the same body");
  require(seen.authorization_count == fast->authorization_count &&
              seen.authorization == fast->authorization,
          "both read the same Authorization headers");
  require(closed == fast->close, "both close the connection alike");
  return 0;
}
