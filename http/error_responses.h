// How both workers answer what their routes do not: errors cpp-httplib
// produces itself, exceptions, and methods the API does not have. Every such
// answer carries the JSON error body and its sentence from
// http/status_answers.h; no exception text reaches a client.
//
// Installed by run_worker() as the server's error, exception and pre-routing
// handlers; called on connection threads; cold paths.
#pragma once

#include <httplib.h>

#include <exception>

namespace servertrack::http {

// Exception handler: 500 with the JSON error body, one log line with the
// exception's text (the client never sees it).
void answer_exception(const httplib::Request& request, httplib::Response& response,
                      std::exception_ptr exception);

// Error handler: gives a 4xx/5xx response that has no body yet (one made by
// cpp-httplib: unparsable request, no route, payload too large, ...) the JSON
// error body.
httplib::Server::HandlerResponse fill_error_body(const httplib::Request& request,
                                                 httplib::Response& response);

// Pre-routing handler: 405 for methods other than GET, HEAD and POST, and
// DELETE when `deletes` (the ingest worker's DELETE /server/<name>).
httplib::Server::HandlerWithResponse refuse_other_methods(bool deletes);

}  // namespace servertrack::http
