#include "http/json_error.h"

#include "http/answer.h"

namespace servertrack::http {

void set_json_error(httplib::Response& response, int status, std::string_view message) {
  set_answer(response, json_error(status, message));
}

}  // namespace servertrack::http
