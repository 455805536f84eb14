#include "http/loop_responses.h"

#include "http/answer.h"
#include "http/error_responses.h"

namespace servertrack::http {
namespace {

Answer answer_for(int status) {
  switch (status) {
    case 408:
      return json_error(408, "the request did not arrive completely in time; send it again");
    case 431:
      return json_error(431, "the request line and headers are larger than 16 KiB");
    case 503:
      return retry_later("the worker is overloaded; retry in a second");
    default:
      return json_error(status, error_message(status));
  }
}

}  // namespace

std::string loop_response(int status, std::string_view server_header, bool keep_alive) {
  std::string out;
  append_response(out, answer_for(status), server_header, keep_alive);
  return out;
}

}  // namespace servertrack::http
