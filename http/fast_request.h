// The API's hot request shapes read straight from the framed bytes, without
// cpp-httplib's Request object, its header map and its regex routing: a GET
// or POST of /server/<name> in HTTP/1.1 (docs/design.md, "The connection
// layer"). Anything else, or anything unusual about one of these, is declined
// and goes the general way (cpp-httplib), which answers it as before; so this
// parser only has to be right about what it accepts, and the differential
// fuzz target (tests/fuzz/fuzz_fast_request.cc) checks that cpp-httplib reads
// every accepted request the same way.
//
// Accepted: "GET" or "POST", one space, "/server/" and a name that follows
// the name rule (shm/name.h: none of the bytes cpp-httplib would decode or
// split on), one space, "HTTP/1.1"; header lines "Name: value" with a token
// name and a non-empty value without '%' (cpp-httplib decodes %XX in header
// values). Content-Length (checked by the framer), one Connection of
// "keep-alive" or "close", and Authorization are read; Expect was answered by
// the loop; other headers are ignored, as the routes ignore them, except
// those that make cpp-httplib do more: Transfer-Encoding, Content-Encoding,
// Range, a multipart Content-Type, and Accept-Encoding on a GET (the general
// path compresses the answer) are declined. A POST needs Content-Length; a
// GET has no body.
//
// Called on the event loop's thread with one framed request
// (http/request_framer.h); a pure function, no allocation, cost linear in the
// header block.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace servertrack::http {

struct FastRequest {
  bool post = false;                   // POST, else GET
  std::string_view path;               // "/server/<name>"
  std::string_view name;               // after "/server/"; follows the name rule (shm/name.h)
  std::string_view body;               // POST: the Content-Length bytes after the headers
  bool close = false;                  // "Connection: close"
  std::string_view authorization;      // the first Authorization header's value
  std::size_t authorization_count = 0; // how many Authorization headers came
};

// `framed` is one whole request (frame_request() said complete, length =
// framed.size()). nullopt: not one of the shapes above.
std::optional<FastRequest> parse_fast_request(std::string_view framed) noexcept;

}  // namespace servertrack::http
