// The responses the event loop writes itself, without a handler: a request it
// refuses while framing (400, 413, 431), one that did not arrive in time (408),
// and overload (503 with Retry-After: 1). Each carries the JSON error body and
// the worker's Server header, like the responses cpp-httplib writes.
//
// Called on the event loop thread; cold paths (one small string each).
#pragma once

#include <string>
#include <string_view>

namespace servertrack::http {

inline constexpr std::string_view kContinueResponse = "HTTP/1.1 100 Continue\r\n\r\n";

// The whole response, ready to send. `keep_alive`: the connection stays open.
std::string loop_response(int status, std::string_view server_header, bool keep_alive);

}  // namespace servertrack::http
