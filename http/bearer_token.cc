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
  const char* refusal =
      "this ingest worker needs a token: send the header 'Authorization: Bearer <token>' with "
      "the token it was started with";
  if (range.first != range.second) {
    const std::string_view header = range.first->second;
    const bool one_bearer = std::next(range.first) == range.second && header.size() > kScheme.size() &&
                            header.substr(0, kScheme.size()) == kScheme;
    if (one_bearer && constant_time_equal(header.substr(kScheme.size()), token)) return true;
    refusal = one_bearer
                  ? "the token sent is not this ingest worker's token; send the one it was started with"
                  : "send exactly one header 'Authorization: Bearer <token>' with the token this ingest "
                    "worker was started with";
  }
  set_json_error(response, 401, refusal);
  response.set_header("WWW-Authenticate", "Bearer");
  return false;
}

}  // namespace servertrack::http
