#include "http/bearer_token.h"

#include "http/json_error.h"

namespace servertrack::http {

bool constant_time_equal(std::string_view presented, std::string_view secret) noexcept {
  unsigned difference = presented.size() == secret.size() ? 0u : 1u;
  for (std::size_t i = 0; i < secret.size(); ++i) {
    const char theirs = i < presented.size() ? presented[i] : '\0';
    difference |= static_cast<unsigned char>(theirs ^ secret[i]);
  }
  return difference == 0;
}

bool check_bearer_token(const httplib::Request& request, httplib::Response& response,
                        std::string_view token) {
  if (token.empty()) return true;
  constexpr std::string_view kScheme = "Bearer ";
  const auto range = request.headers.equal_range("Authorization");
  if (range.first != range.second && std::next(range.first) == range.second) {
    const std::string_view header = range.first->second;
    if (header.size() > kScheme.size() && header.substr(0, kScheme.size()) == kScheme &&
        constant_time_equal(header.substr(kScheme.size()), token)) {
      return true;
    }
  }
  set_json_error(response, 401,
                 "this ingest worker needs a token: send the header 'Authorization: Bearer "
                 "<token>' with the token it was started with");
  response.set_header("WWW-Authenticate", "Bearer");
  return false;
}

}  // namespace servertrack::http
