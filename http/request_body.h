// A request body read into a reused, bounded buffer with readable padding
// after it (simdjson reads up to SIMDJSON_PADDING bytes past the end).
//
// One RequestBody per connection thread (thread_local in the handlers); its
// memory grows to the largest body seen and is reused, so a steady stream of
// small bodies allocates nothing. read_request_body() never holds more than
// `limit` bytes, also for chunked bodies, which cpp-httplib 0.11.4 does not
// bound by its payload limit.
#pragma once

#include <httplib.h>

#include <cstddef>
#include <string_view>
#include <vector>

namespace servertrack::http {

inline constexpr std::size_t kMaxBodyBytes = 64 * 1024;
inline constexpr const char* kBodyTooLargeMessage =
    "the body is larger than 64 KiB; send a batch of many servers as several POST /servers "
    "of at most 64 KiB each";

class RequestBody {
 public:
  // `limit`: the largest body held, as the route reads it (a gzip body of at
  // most kMaxBodyBytes may inflate to more, up to `limit`); the 413's sentence.
  explicit RequestBody(std::size_t padding, std::size_t limit = kMaxBodyBytes,
                       std::string_view too_large_message = kBodyTooLargeMessage)
      : padding_(padding), limit_(limit), too_large_message_(too_large_message), bytes_(padding) {}

  void clear() noexcept { size_ = 0; }
  std::string_view too_large_message() const noexcept { return too_large_message_; }
  // False (and nothing appended) when the body would exceed the limit.
  bool append(const char* data, std::size_t length);
  std::string_view view() const noexcept { return {bytes_.data(), size_}; }
  // The first byte; at least `padding` readable bytes follow view().
  const char* data() const noexcept { return bytes_.data(); }

 private:
  std::size_t padding_;
  std::size_t limit_;
  std::string_view too_large_message_;
  std::size_t size_ = 0;
  std::vector<char> bytes_;
};

// Reads the whole body of `request` into `body`. On failure (too large,
// truncated, timed out) sets the JSON error response (413 or 400) and returns
// false.
bool read_request_body(const httplib::ContentReader& reader, httplib::Response& response,
                       RequestBody& body);

}  // namespace servertrack::http
