// The text of an HTTP header line as the request framer
// (http/request_framer.h) and the fast path (http/fast_request.h) read it:
// names compared without regard to ASCII case, values without the spaces and
// tabs around them.
//
// Pure functions, any thread; no allocation, linear in the text.
#pragma once

#include <cstddef>
#include <string_view>

namespace servertrack::http {

inline char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

inline bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

inline std::string_view trimmed(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace servertrack::http
