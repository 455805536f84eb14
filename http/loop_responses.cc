#include "http/loop_responses.h"

#include "http/answer.h"
#include "http/status_answers.h"

namespace servertrack::http {
namespace {

Answer answer_for(int status) {
  return status == 503 ? retry_later(error_message(status)) : json_error(status, error_message(status));
}

}  // namespace

std::string loop_response(int status, std::string_view server_header, bool keep_alive) {
  std::string out;
  append_response(out, answer_for(status), server_header, keep_alive);
  return out;
}

}  // namespace servertrack::http
