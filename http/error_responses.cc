#include "http/error_responses.h"

#include <string>

#include "http/json_error.h"
#include "http/worker_log.h"
#include "http/request_body.h"

namespace servertrack::http {

const char* error_message(int status) {
  switch (status) {
    case 400: return "the request is not valid HTTP/1.1";
    case 404: return no_such_path_message;
    case 413: return kBodyTooLargeMessage;
    case 414: return "the request target is too long";
    default: return status < 500 ? "the request was refused" : "internal error; see the worker's log";
  }
}

namespace {

std::string describe(std::exception_ptr exception) {
  try {
    std::rethrow_exception(exception);
  } catch (const std::exception& error) {
    return error.what();
  } catch (...) {
    return "an exception not derived from std::exception";
  }
}

}  // namespace

void answer_exception(const httplib::Request& request, httplib::Response& response,
                      std::exception_ptr exception) {
  log_line("internal error in {} {}: {}", request.method, request.path, describe(exception));
  response.headers.clear();
  set_json_error(response, 500, error_message(500));
}

httplib::Server::HandlerResponse fill_error_body(const httplib::Request&,
                                                 httplib::Response& response) {
  if (!response.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
  set_json_error(response, response.status, error_message(response.status));
  return httplib::Server::HandlerResponse::Handled;
}

httplib::Server::HandlerWithResponse refuse_other_methods(bool deletes) {
  return [deletes](const httplib::Request& request, httplib::Response& response) {
    if (request.method == "GET" || request.method == "HEAD" || request.method == "POST" ||
        (deletes && request.method == "DELETE")) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    set_json_error(response, 405,
                   deletes ? "method not allowed; the ingest API uses POST and DELETE (GETs are redirected)"
                           : "method not allowed; the API uses GET and POST (DELETE on the ingest port)");
    response.set_header("Allow", deletes ? "GET, HEAD, POST, DELETE" : "GET, HEAD, POST");
    return httplib::Server::HandlerResponse::Handled;
  };
}

}  // namespace servertrack::http
