#include "http/loop_responses.h"

#include <fmt/format.h>

#include "http/error_responses.h"
#include "http/json_error.h"

namespace servertrack::http {
namespace {

const char* reason(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

httplib::Response error_for(int status) {
  httplib::Response response;
  response.status = status;
  switch (status) {
    case 408:
      set_json_error(response, 408, "the request did not arrive completely in time; send it again");
      break;
    case 431:
      set_json_error(response, 431, "the request line and headers are larger than 16 KiB");
      break;
    case 503:
      set_json_error(response, 503, "the worker is overloaded; retry in a second");
      response.set_header("Retry-After", "1");
      break;
    default:
      fill_error_body(httplib::Request{}, response);
      break;
  }
  return response;
}

}  // namespace

std::string loop_response(int status, std::string_view server_header, bool keep_alive) {
  const httplib::Response response = error_for(status);
  std::string out = fmt::format("HTTP/1.1 {} {}\r\nServer: {}\r\n", status, reason(status),
                                server_header);
  for (const auto& [name, value] : response.headers) {
    out += fmt::format("{}: {}\r\n", name, value);
  }
  out += fmt::format("Content-Length: {}\r\nConnection: {}\r\n\r\n", response.body.size(),
                     keep_alive ? "keep-alive" : "close");
  out += response.body;
  return out;
}

}  // namespace servertrack::http
