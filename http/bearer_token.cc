#include "http/bearer_token.h"

#include <iterator>

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

const char* bearer_refusal(std::string_view first, std::size_t count, std::string_view token) noexcept {
  if (token.empty()) return nullptr;
  if (count == 0) {
    return "this ingest worker needs a token: send the header 'Authorization: Bearer <token>' with "
           "the token it was started with";
  }
  constexpr std::string_view kScheme = "Bearer ";
  if (count != 1 || first.size() <= kScheme.size() || !first.starts_with(kScheme)) {
    return "send exactly one header 'Authorization: Bearer <token>' with the token this ingest "
           "worker was started with";
  }
  if (!constant_time_equal(first.substr(kScheme.size()), token)) {
    return "the token sent is not this ingest worker's token; send the one it was started with";
  }
  return nullptr;
}

bool check_bearer_token(const httplib::Request& request, httplib::Response& response,
                        std::string_view token) {
  const auto range = request.headers.equal_range("Authorization");
  const std::string_view first = range.first != range.second ? std::string_view(range.first->second) : "";
  const char* refusal =
      bearer_refusal(first, static_cast<std::size_t>(std::distance(range.first, range.second)), token);
  if (refusal == nullptr) return true;
  set_json_error(response, 401, refusal);
  response.set_header("WWW-Authenticate", "Bearer");
  return false;
}

}  // namespace servertrack::http
