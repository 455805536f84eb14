#include "http/request_body.h"

#include <cstring>

#include "http/answer.h"

namespace servertrack::http {

bool RequestBody::append(const char* data, std::size_t length) {
  if (length > limit_ - size_) return false;
  if (length == 0) return true;
  const std::size_t needed = size_ + length + padding_;
  if (bytes_.size() < needed) bytes_.resize(needed);
  std::memcpy(bytes_.data() + size_, data, length);
  size_ += length;
  return true;
}

bool read_request_body(const httplib::ContentReader& reader, httplib::Response& response,
                       RequestBody& body) {
  body.clear();
  bool too_large = false;
  const bool complete = reader([&](const char* data, std::size_t length) {
    too_large = !body.append(data, length);
    return !too_large;
  });
  if (complete) return true;
  if (too_large || response.status == 413) {
    set_json_error(response, 413, body.too_large_message());
  } else {
    set_json_error(response, 400, "the body could not be read completely; send it again");
  }
  return false;
}

}  // namespace servertrack::http
