#include "http/json_error.h"

namespace servertrack::http {

void set_json_error(httplib::Response& response, int status, std::string_view message) {
  response.status = status;
  response.headers.erase("Content-Type");
  response.set_content("{\"error\": " + common::json_string(message) + "}", "application/json");
}

}  // namespace servertrack::http
