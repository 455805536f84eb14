// libFuzzer target: the bytes a client sends on one connection, served by a
// cpp-httplib Server set up with the workers' own routing pieces: the route
// pattern http::kServerRoute, http::server_name() and shm::is_valid_name()
// for the name, the pre-routing, error and exception handlers of
// http/error_responses.h, http::read_request_body() for bodies and
// http::sibling_location() for the redirects of the catch-all routes. Up to
// kMaxRequestsPerInput pipelined requests per input; nothing touches a segment.
//
// Properties checked on every input (besides no crash, leak or UB):
// - the /server/ route sees only paths under /server/, and a name is accepted
//   exactly when it follows the name rule (shm/name.h);
// - a body read in full is at most kMaxBodyBytes;
// - a redirect points to http://<host>:<sibling port> followed by the request's
//   own target;
// - every response starts with an HTTP/1.1 status line, and every error
//   response (4xx, 5xx) is declared application/json (the JSON error body).
#include <httplib.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/error_responses.h"
#include "http/answer.h"
#include "http/request_body.h"
#include "http/server_path.h"
#include "http/sibling.h"
#include "shm/name.h"
#include "tests/fuzz/connection_bytes.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using servertrack::fuzz::ConnectionBytes;
using servertrack::fuzz::require;
namespace http = servertrack::http;

constexpr int kMaxRequestsPerInput = 4;
constexpr int kSiblingPort = 8888;
constexpr std::string_view kNameCharacters =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-";

// The name rule as docs/design.md states it, written independently of shm/name.cc.
bool is_name_by_contract(std::string_view name) {
  return !name.empty() && name.size() <= 253 && name.front() != '.' && name.front() != '-' &&
         name.find_first_not_of(kNameCharacters) == std::string_view::npos;
}

bool read_body(const httplib::ContentReader& reader, httplib::Response& res) {
  thread_local http::RequestBody body(0);
  if (!http::read_request_body(reader, res, body)) return false;
  require(body.view().size() <= http::kMaxBodyBytes, "a body read in full is at most 64 KiB");
  return true;
}

void answer_server_route(const httplib::Request& req, httplib::Response& res) {
  require(req.path.starts_with("/server/"), "the server route sees only paths under /server/");
  const bool valid = servertrack::shm::is_valid_name(http::server_name(req));
  require(valid == is_name_by_contract(http::server_name(req)),
          "a name is accepted exactly when it follows the name rule");
  if (valid) {
    res.status = 204;
  } else {
    http::set_json_error(res, 400, http::kInvalidNameMessage);
  }
}

void redirect_to_sibling(const httplib::Request& req, httplib::Response& res) {
  const std::string location = http::sibling_location("", req.get_header_value("Host"),
                                                      "127.0.0.1", kSiblingPort, req.target);
  require(location.starts_with("http://") && location.ends_with(req.target),
          "a redirect goes to http://<host>:<port> followed by the request's target");
  res.set_redirect(location, 307);
}

void check_response(std::string_view response) {
  if (response.empty()) return;
  require(response.starts_with("HTTP/1.1 ") && response.size() >= 12,
          "a response starts with an HTTP/1.1 status line");
  const bool error = response[9] == '4' || response[9] == '5';
  const std::string_view head = response.substr(0, response.find("\r\n\r\n"));
  require(!error || head.find("\r\nContent-Type: application/json\r\n") != std::string_view::npos ||
              head.ends_with("\r\nContent-Type: application/json"),
          "an error response carries the JSON error body");
}

class RoutedServer final : public httplib::Server {
 public:
  RoutedServer() {
    set_payload_max_length(http::kMaxBodyBytes);
    set_exception_handler(http::answer_exception);
    set_error_handler(httplib::Server::HandlerWithResponse(http::fill_error_body));
    set_pre_routing_handler(http::refuse_other_methods(false));
    Get(http::kServerRoute, answer_server_route);
    Post(http::kServerRoute, [](const httplib::Request& req, httplib::Response& res,
                                const httplib::ContentReader& reader) {
      if (read_body(reader, res)) answer_server_route(req, res);
    });
    Get(".*", redirect_to_sibling);
    Post(".*", [](const httplib::Request& req, httplib::Response& res,
                  const httplib::ContentReader& reader) {
      if (read_body(reader, res)) redirect_to_sibling(req, res);
    });
  }

  void serve(ConnectionBytes& connection) {
    bool closed = false;
    for (int i = 0; i < kMaxRequestsPerInput && !closed && !connection.exhausted(); ++i) {
      const bool keep_going = process_request(connection, false, closed, nullptr);
      check_response(connection.take_written());
      if (!keep_going) return;
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static RoutedServer server;
  ConnectionBytes connection({reinterpret_cast<const char*>(data), size});
  server.serve(connection);
  return 0;
}
