// The bearer credentials of a request (RFC 6750): the token in
// "Authorization: Bearer <token>", the scheme compared without regard to case
// (RFC 9110: "bearer", "BEARER" are the same scheme), and the comparison of a
// presented token with a secret that takes the same time wherever they first
// differ (it reads every byte of the secret, whatever it found before).
//
// Pure functions, any thread, no allocation; used by the access check
// (http/access_policy.h) on the fast path and cpp-httplib's path alike.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "http/header_text.h"

namespace servertrack::http {

// True when the bytes are equal. Reads presented[i] and secret[i] for every i
// below secret.size() (presented as '\0' past its end) and never returns
// early: the time depends on the lengths only. `Bytes` is anything with
// size() and operator[] giving a char (std::string_view; a counting view in
// the unit test that pins this).
template <typename Bytes>
bool constant_time_equal(const Bytes& presented, std::string_view secret) noexcept {
  // volatile: the compiler may not turn the loop into one that stops at the first difference.
  volatile unsigned difference = presented.size() == secret.size() ? 0u : 1u;
  for (std::size_t i = 0; i < secret.size(); ++i) {
    const char theirs = i < presented.size() ? presented[i] : '\0';
    difference = difference | static_cast<unsigned char>(theirs ^ secret[i]);
  }
  return difference == 0;
}

// The token of an Authorization header value "Bearer <token>" (scheme in any
// case, one or more spaces), or nullopt when the value is another scheme or
// carries no token.
inline std::optional<std::string_view> bearer_credentials(std::string_view authorization) noexcept {
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() ||
      !equals_ignoring_case(authorization.substr(0, kScheme.size()), kScheme) ||
      (authorization[kScheme.size()] != ' ' && authorization[kScheme.size()] != '\t')) {
    return std::nullopt;
  }
  const std::string_view token = trimmed(authorization.substr(kScheme.size()));
  if (token.empty()) return std::nullopt;
  return token;
}

}  // namespace servertrack::http
