#include "http/request_framer.h"

#include <cstdint>

#include "http/header_text.h"

namespace servertrack::http {
namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr std::size_t kMaxChunkLineBytes = 1024;

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Frame refused(int status) noexcept {
  return Frame{.status = FrameStatus::refused, .length = 0, .error_status = status,
               .headers_complete = false, .expects_continue = false};
}

// What the header block says about the body.
struct BodyHeaders {
  bool chunked = false;
  bool has_length = false;
  std::uint64_t length = 0;
  bool expects_continue = false;
  int error_status = 0;  // nonzero: refuse with it
};

// Parses a Content-Length value into `headers`; a bigger-than-allowed value is 413.
void read_content_length(std::string_view value, BodyHeaders& headers) noexcept {
  if (value.empty()) {
    headers.error_status = 400;
    return;
  }
  std::uint64_t length = 0;
  for (const char c : value) {
    if (c < '0' || c > '9') {
      headers.error_status = 400;
      return;
    }
    length = length * 10 + static_cast<std::uint64_t>(c - '0');
    if (length > kMaxBodyBytes) {
      headers.error_status = 413;
      return;
    }
  }
  if (headers.has_length && headers.length != length) headers.error_status = 400;
  headers.has_length = true;
  headers.length = length;
}

// `block`: the header lines after the request line, each ending in CRLF.
BodyHeaders read_body_headers(std::string_view block) noexcept {
  BodyHeaders headers;
  while (!block.empty() && headers.error_status == 0) {
    const std::size_t end = block.find(kCrlf);
    const std::string_view line = block.substr(0, end);
    block.remove_prefix(end + kCrlf.size());
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;  // cpp-httplib rejects it
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trimmed(line.substr(colon + 1));
    if (equals_ignoring_case(name, "content-length")) {
      read_content_length(value, headers);
    } else if (equals_ignoring_case(name, "transfer-encoding")) {
      if (!equals_ignoring_case(value, "chunked") || headers.chunked) headers.error_status = 400;
      headers.chunked = true;
    } else if (equals_ignoring_case(name, "expect")) {
      headers.expects_continue = equals_ignoring_case(value, "100-continue");
    }
  }
  if (headers.error_status == 0 && headers.chunked && headers.has_length) {
    headers.error_status = 400;
  }
  return headers;
}

// Frames a chunked body starting at `body`; the result's length counts from
// `body`'s start.
Frame frame_chunked(std::string_view body) noexcept {
  std::size_t at = 0;
  std::size_t total = 0;
  for (;;) {
    const std::string_view rest = body.substr(at);
    const std::size_t line_end = rest.find(kCrlf);
    if (line_end == std::string_view::npos) {
      return rest.size() > kMaxChunkLineBytes ? refused(400) : Frame{};
    }
    if (line_end > kMaxChunkLineBytes) return refused(400);
    const std::string_view line = rest.substr(0, line_end);
    std::size_t size = 0;
    std::size_t digits = 0;
    for (; digits < line.size() && hex_value(line[digits]) >= 0; ++digits) {
      size = size * 16 + static_cast<std::size_t>(hex_value(line[digits]));
      if (size > kMaxBodyBytes - total) return refused(413);
    }
    const std::string_view extension = trimmed(line.substr(digits));
    if (digits == 0 || (!extension.empty() && extension.front() != ';')) return refused(400);
    at += line_end + kCrlf.size();
    if (size == 0) break;
    total += size;
    if (body.size() < at + size + kCrlf.size()) return Frame{};
    if (body.substr(at + size, kCrlf.size()) != kCrlf) return refused(400);
    at += size + kCrlf.size();
  }
  // Trailer lines, then the empty line.
  for (;;) {
    const std::string_view rest = body.substr(at);
    const std::size_t line_end = rest.find(kCrlf);
    if (line_end == std::string_view::npos) {
      return rest.size() > kMaxHeaderBytes ? refused(431) : Frame{};
    }
    at += line_end + kCrlf.size();
    if (line_end == 0) break;
  }
  return Frame{.status = FrameStatus::complete, .length = at, .error_status = 0,
               .headers_complete = true, .expects_continue = false};
}

}  // namespace

Frame frame_request(std::string_view received) noexcept {
  constexpr std::string_view kEndOfHeaders = "\r\n\r\n";
  const std::size_t searched = received.size() < kMaxHeaderBytes ? received.size() : kMaxHeaderBytes;
  const std::size_t header_end = received.substr(0, searched).find(kEndOfHeaders);
  if (header_end == std::string_view::npos) {
    return received.size() >= kMaxHeaderBytes ? refused(431) : Frame{};
  }
  const std::size_t header_length = header_end + kEndOfHeaders.size();
  const std::string_view head = received.substr(0, header_end + kCrlf.size());
  const std::size_t request_line_end = head.find(kCrlf);
  const BodyHeaders headers = read_body_headers(head.substr(request_line_end + kCrlf.size()));
  if (headers.error_status != 0) return refused(headers.error_status);

  Frame frame;
  frame.headers_complete = true;
  frame.expects_continue = headers.expects_continue;
  const std::string_view body = received.substr(header_length);
  if (headers.chunked) {
    const Frame chunked = frame_chunked(body);
    if (chunked.status == FrameStatus::refused) return chunked;
    frame.status = chunked.status;
    frame.length = chunked.status == FrameStatus::complete ? header_length + chunked.length : 0;
  } else if (body.size() >= headers.length) {
    frame.status = FrameStatus::complete;
    frame.length = header_length + static_cast<std::size_t>(headers.length);
  }
  if (frame.status == FrameStatus::incomplete && received.size() >= kMaxRequestBytes) {
    return refused(413);
  }
  return frame;
}

}  // namespace servertrack::http
