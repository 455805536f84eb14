// What a route answers, as data: the status, the body and the optional
// headers the API adds. One handler serves both ways a request is answered:
// set_answer() fills cpp-httplib's Response (the general path), and
// append_response() writes the whole HTTP/1.1 response itself (the fast path
// of http/fast_path.h and the event loop's own answers), with the headers
// cpp-httplib would write.
//
// Any thread. json_error() keeps its body in a thread-local buffer that the
// next json_error() call on the thread replaces; append_response() appends to
// the caller's buffer and allocates only to grow it.
#pragma once

#include <httplib.h>

#include <string>
#include <string_view>

namespace servertrack::http {

struct Answer {
  int status = 200;
  std::string_view body;          // must live until written; empty: no body
  std::string_view content_type;  // of a non-empty body
  bool retry_after = false;       // adds "Retry-After: 1" (a 503 that will pass)
  std::string_view authenticate;  // a 401/403's WWW-Authenticate challenge; empty: none
};

// {"error": "<message>"} with `status`: the JSON error body of the HTTP contract.
Answer json_error(int status, std::string_view message);

// set_answer(response, json_error(status, message)): replaces the response's
// status and body with the JSON error body.
void set_json_error(httplib::Response& response, int status, std::string_view message);

// 503 with "Retry-After: 1" and the JSON error body: nothing was done, and the
// same request may be sent again in a second (a busy slot, an overloaded loop).
Answer retry_later(std::string_view message);

// Appends the response: status line, then, as cpp-httplib orders them,
// Connection: close, Content-Length, Content-Type, Keep-Alive (when kept
// open), Retry-After, Server and WWW-Authenticate; then the body.
void append_response(std::string& out, const Answer& answer, std::string_view server_header,
                     bool keep_alive);

// Sets the response's status, body, Content-Type, Retry-After and WWW-Authenticate.
void set_answer(httplib::Response& response, const Answer& answer);

}  // namespace servertrack::http
