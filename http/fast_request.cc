#include "http/fast_request.h"

#include "http/header_text.h"
#include "shm/name.h"

namespace servertrack::http {
namespace {

constexpr std::string_view kCrlf = "\r\n";
// cpp-httplib refuses a header line longer than this; a head of this size or
// more goes the general way whole, whatever its lines.
constexpr std::size_t kMaxHeadBytes = 8192;

// RFC 9110 token characters: what a header name may be made of.
bool is_token_char(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) noexcept {
  return text.size() >= prefix.size() && equals_ignoring_case(text.substr(0, prefix.size()), prefix);
}

// Visible characters, spaces and tabs only (no CR, LF, NUL or DEL).
bool is_plain_value(std::string_view value) noexcept {
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7f) return false;
  }
  return true;
}

// The request line: "GET /server/<name> HTTP/1.1" or the same with POST.
bool parse_request_line(std::string_view line, FastRequest& request) noexcept {
  constexpr std::string_view kGet = "GET ";
  constexpr std::string_view kPost = "POST ";
  constexpr std::string_view kServer = "/server/";
  constexpr std::string_view kVersion = " HTTP/1.1";
  if (line.starts_with(kGet)) {
    line.remove_prefix(kGet.size());
  } else if (line.starts_with(kPost)) {
    line.remove_prefix(kPost.size());
    request.post = true;
  } else {
    return false;
  }
  if (!line.starts_with(kServer) || !line.ends_with(kVersion)) return false;
  request.path = line.substr(0, line.size() - kVersion.size());
  request.name = request.path.substr(kServer.size());
  // The name rule leaves out every byte cpp-httplib would decode or split on.
  return shm::is_valid_name(request.name);
}

struct HeadersSeen {
  bool length = false;
  bool connection = false;
};

// One header line; false when it makes the request one to decline.
bool read_header(std::string_view line, FastRequest& request, HeadersSeen& seen) noexcept {
  const std::size_t colon = line.find(':');
  if (colon == 0 || colon == std::string_view::npos) return false;
  const std::string_view name = line.substr(0, colon);
  for (const char c : name) {
    if (!is_token_char(c)) return false;
  }
  const std::string_view raw_value = line.substr(colon + 1);
  if (!is_plain_value(raw_value)) return false;
  const std::string_view value = trimmed(raw_value);
  // cpp-httplib drops a header without a value and decodes %XX in values.
  if (value.empty() || value.find('%') != std::string_view::npos) return false;
  if (equals_ignoring_case(name, "content-length")) {
    seen.length = true;  // digits only and consistent: the framer has checked
  } else if (equals_ignoring_case(name, "connection")) {
    // One header with one exact value (cpp-httplib compares "close" exactly).
    if (seen.connection || (value != "close" && value != "keep-alive")) return false;
    seen.connection = true;
    request.close = value == "close";
  } else if (equals_ignoring_case(name, "authorization")) {
    if (request.authorization_count++ == 0) request.authorization = value;
  } else if (equals_ignoring_case(name, "transfer-encoding") ||
             equals_ignoring_case(name, "content-encoding") ||
             equals_ignoring_case(name, "range") ||
             (!request.post && equals_ignoring_case(name, "accept-encoding")) ||
             (equals_ignoring_case(name, "content-type") && starts_with_ignoring_case(value, "multipart/"))) {
    return false;  // a body to decode, a part of a response, a compressed answer: the general way
  }
  return true;
}

}  // namespace

std::optional<FastRequest> parse_fast_request(std::string_view framed) noexcept {
  const std::size_t head_end = framed.find("\r\n\r\n");
  if (head_end == std::string_view::npos || head_end > kMaxHeadBytes) return std::nullopt;
  std::string_view head = framed.substr(0, head_end + kCrlf.size());
  FastRequest request;
  std::size_t line_end = head.find(kCrlf);
  if (!parse_request_line(head.substr(0, line_end), request)) return std::nullopt;
  head.remove_prefix(line_end + kCrlf.size());
  HeadersSeen seen;
  while (!head.empty()) {
    line_end = head.find(kCrlf);
    if (!read_header(head.substr(0, line_end), request, seen)) return std::nullopt;
    head.remove_prefix(line_end + kCrlf.size());
  }
  request.body = framed.substr(head_end + 2 * kCrlf.size());
  if (request.post ? !seen.length : !request.body.empty()) return std::nullopt;
  return request;
}

}  // namespace servertrack::http
