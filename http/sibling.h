// Where a request for the other worker is redirected (307; docs/design.md,
// "The HTTP contract", wrong port): the configured sibling URL, or the host the client used with the
// sibling's default port, followed by the request's own target.
//
// Called by the redirect handler on the connection's thread; cold path.
#pragma once

#include <string>
#include <string_view>

namespace servertrack::http {

// sibling_url: "" or a base such as "http://127.0.0.1:8888" (a trailing '/'
// is dropped). host_header: the request's Host header, possibly "" or with a
// port or an IPv6 literal in brackets. target: path and query, e.g. "/server/a".
std::string sibling_location(std::string_view sibling_url, std::string_view host_header,
                             std::string_view fallback_host, int sibling_default_port,
                             std::string_view target);

}  // namespace servertrack::http
