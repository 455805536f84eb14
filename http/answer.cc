#include "http/answer.h"

#include <fmt/format.h>

#include <chrono>

#include "common/json_string.h"
#include "http/keep_alive.h"

namespace servertrack::http {
namespace {

std::string_view reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 307: return "Temporary Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 507: return "Insufficient Storage";
    default: return status < 500 ? "Client Error" : "Server Error";
  }
}

}  // namespace

Answer json_error(int status, std::string_view message) {
  thread_local std::string body;
  body.assign("{\"error\": ").append(common::json_string(message)).append("}");
  Answer answer;
  answer.status = status;
  answer.body = body;
  answer.content_type = "application/json";
  return answer;
}

void set_json_error(httplib::Response& response, int status, std::string_view message) {
  set_answer(response, json_error(status, message));
}

Answer retry_later(std::string_view message) {
  Answer answer = json_error(503, message);
  answer.retry_after = true;
  return answer;
}

void append_response(std::string& out, const Answer& answer, std::string_view server_header,
                     bool keep_alive) {
  static const std::string keep_alive_header =
      fmt::format("Keep-Alive: timeout={}, max={}\r\n",
                  std::chrono::seconds(kKeepAliveTimeout).count(), kKeepAliveMaxRequests);
  // cpp-httplib's order: its headers sorted by name, ignoring case.
  out.append("HTTP/1.1 ").append(fmt::format_int(answer.status).c_str()).append(" ");
  out.append(reason(answer.status)).append("\r\n");
  if (!keep_alive) out.append("Connection: close\r\n");
  out.append("Content-Length: ").append(fmt::format_int(answer.body.size()).c_str()).append("\r\n");
  if (!answer.body.empty()) out.append("Content-Type: ").append(answer.content_type).append("\r\n");
  if (keep_alive) out.append(keep_alive_header);
  if (answer.retry_after) out.append("Retry-After: 1\r\n");
  out.append("Server: ").append(server_header).append("\r\n");
  if (!answer.authenticate.empty()) out.append("WWW-Authenticate: ").append(answer.authenticate).append("\r\n");
  out.append("\r\n").append(answer.body);
}

void set_answer(httplib::Response& response, const Answer& answer) {
  response.status = answer.status;
  response.headers.erase("Content-Type");
  if (!answer.body.empty()) {
    response.set_content(answer.body.data(), answer.body.size(), std::string(answer.content_type));
  } else {
    response.body.clear();
  }
  if (answer.retry_after) response.set_header("Retry-After", "1");
  if (!answer.authenticate.empty()) response.set_header("WWW-Authenticate", std::string(answer.authenticate));
}

}  // namespace servertrack::http
