#include "http/error_responses.h"

#include <string>

#include "http/answer.h"
#include "http/status_answers.h"
#include "http/worker_log.h"

namespace servertrack::http {

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
  set_json_error(response, 500, kInternalErrorMessage);
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
    set_json_error(response, 405, deletes ? kIngestMethodsMessage : kQueryMethodsMessage);
    response.set_header("Allow", deletes ? "GET, HEAD, POST, DELETE" : "GET, HEAD, POST");
    return httplib::Server::HandlerResponse::Handled;
  };
}

}  // namespace servertrack::http
