// The optional ingest token (--ingest-token): a POST must carry
// "Authorization: Bearer <token>", else 401 with the JSON error body and
// "WWW-Authenticate: Bearer"; the error says whether the token was missing,
// malformed or wrong (never which bytes differ). The comparison takes the same time wherever the
// presented token first differs, and the token is never echoed.
//
// Called by the ingest worker's POST handlers on connection threads; no
// allocation when the token matches.
#pragma once

#include <httplib.h>

#include <string_view>

namespace servertrack::http {

// True when the bytes are equal; time depends on the lengths only.
bool constant_time_equal(std::string_view presented, std::string_view secret) noexcept;

// nullptr when `token` is empty (no token configured) or the request
// presents it: `count` Authorization headers came, the first with `first`.
// Otherwise the sentence of the 401 answer.
const char* bearer_refusal(std::string_view first, std::size_t count, std::string_view token) noexcept;

// True when `token` is empty (no token configured) or the request presents it.
// Otherwise sets the 401 response and returns false.
bool check_bearer_token(const httplib::Request& request, httplib::Response& response,
                        std::string_view token);

}  // namespace servertrack::http
