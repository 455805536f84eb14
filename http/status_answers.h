// What a refusal says: the one table from a segment status (shm::Status) to
// an HTTP status and a sentence, and the sentences of the refusals every
// route and the connection layer share (docs/design.md, "The HTTP contract",
// Errors). Every route, the fast path, the event loop's own answers and
// cpp-httplib's errors take their words from here, so a refusal reads the
// same whichever way the request was served.
//
// Any thread. The constants and error_message() are header-only and cost
// nothing; status_sentence() and status_answer() format one small string
// (refusals only: cold paths).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "http/answer.h"
#include "http/request_body.h"
#include "shm/segment.h"

namespace servertrack::http {

inline constexpr const char* kNoSuchPathMessage =
    "no such path; the API is POST /server/<name> and POST /servers on the ingest worker's port, "
    "GET /, /fleet, /servers and /server/<name> on the query worker's port";
inline constexpr const char* kInternalErrorMessage = "internal error; see the worker's log";
inline constexpr const char* kOverloadedMessage = "the worker is overloaded; retry in a second";
inline constexpr const char* kIngestMethodsMessage =
    "method not allowed; the ingest API uses POST and DELETE (GETs are redirected)";
inline constexpr const char* kQueryMethodsMessage =
    "method not allowed; the API uses GET and POST (DELETE on the ingest port)";

// The sentence of an error answered without a route: by cpp-httplib (400,
// 404, 413, 414) or the event loop (400, 408, 413, 431, 503); others by class.
constexpr const char* error_message(int status) noexcept {
  switch (status) {
    case 400: return "the request is not valid HTTP/1.1";
    case 404: return kNoSuchPathMessage;
    case 408: return "the request did not arrive completely in time; send it again";
    case 413: return kBodyTooLargeMessage;
    case 414: return "the request target is too long";
    case 431: return "the request line and headers are larger than 16 KiB";
    case 503: return kOverloadedMessage;
    default: return status < 500 ? "the request was refused" : kInternalErrorMessage;
  }
}

// What a status's sentence names, as far as the route knows it.
struct StatusFacts {
  std::string_view name = {};  // the server's name (not_found)
  int days = 0;              // the segment's days (not_found, time_too_old)
  std::int64_t now = 0;      // the worker's clock, unix seconds (the time refusals)
  std::int64_t sample_ms = 0;  // the sample's stated time, unix milliseconds (the time refusals)
};

// The HTTP status of a segment status: 204 for ok and repeat (acknowledged),
// 400 for a refused name, value or time, 404 not_found, 503 busy (retry),
// 507 table_full, 500 for what a route never asks for (read_only).
int http_status(shm::Status status) noexcept;

// The sentence a client reads for a refused status.
std::string status_sentence(shm::Status status, const StatusFacts& facts);

// The JSON error answer of a refused status (503 with Retry-After: 1). Its
// body lives in json_error()'s thread-local buffer.
Answer status_answer(shm::Status status, const StatusFacts& facts);

}  // namespace servertrack::http
