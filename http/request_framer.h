// Where one HTTP/1.1 request ends in the bytes received so far on a
// connection, and whether it may be served at all — decided before any handler
// sees it, so a slow or hostile client costs a buffer and nothing else.
//
// Called by the event loop (http/event_loop.h) after each read, and by fuzz and
// unit tests. A pure function of the byte span: no allocation, no state, cost
// linear in the bytes looked at (at most kMaxRequestBytes).
//
// Framing rules: the header block ends at the first "\r\n\r\n" and is at most
// kMaxHeaderBytes (431 otherwise). The body is given by Content-Length (digits
// only; repeated headers must agree) or by Transfer-Encoding: chunked (strict
// hex sizes, optional chunk extensions, CRLF after each chunk, optional
// trailers); both at once, or any other transfer coding, is 400. A body over
// kMaxBodyBytes is 413 as soon as that is known; no length header means no body.
// The framer does not check the request line or header syntax beyond what
// framing needs: cpp-httplib parses the framed bytes and answers 400 itself.
#pragma once

#include <cstddef>
#include <string_view>

#include "http/request_body.h"

namespace servertrack::http {

inline constexpr std::size_t kMaxHeaderBytes = 16 * 1024;
// Headers, body, and room for chunk-size lines: what one connection buffers.
inline constexpr std::size_t kMaxRequestBytes = kMaxHeaderBytes + kMaxBodyBytes + 16 * 1024;

enum class FrameStatus {
  incomplete,  // more bytes needed
  complete,    // the first `length` bytes are one request
  refused,     // answer `error_status` and close the connection
};

struct Frame {
  FrameStatus status = FrameStatus::incomplete;
  std::size_t length = 0;         // complete: bytes of the request, body included
  int error_status = 0;           // refused: 400, 413 or 431
  bool headers_complete = false;  // the header block has been seen in full
  bool expects_continue = false;  // headers complete with "Expect: 100-continue"
};

Frame frame_request(std::string_view received) noexcept;

}  // namespace servertrack::http
