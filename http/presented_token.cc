#include "http/presented_token.h"

#include <openssl/evp.h>

#include "http/bearer_token.h"
#include "http/header_text.h"

namespace servertrack::http {
namespace {

// The credentials after `scheme` and blanks, or nullopt for another scheme.
std::optional<std::string_view> after_scheme(std::string_view authorization, std::string_view scheme) {
  if (authorization.size() <= scheme.size() ||
      !equals_ignoring_case(authorization.substr(0, scheme.size()), scheme) ||
      (authorization[scheme.size()] != ' ' && authorization[scheme.size()] != '\t')) {
    return std::nullopt;
  }
  const std::string_view credentials = trimmed(authorization.substr(scheme.size()));
  if (credentials.empty()) return std::nullopt;
  return credentials;
}

// The password of Basic credentials base64(user:password), or nullopt.
std::optional<std::string_view> basic_password(std::string_view encoded, std::string& decoded) {
  if (encoded.size() % 4 != 0 || encoded.size() > 4096) return std::nullopt;
  decoded.resize(encoded.size() / 4 * 3);
  const int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                                     reinterpret_cast<const unsigned char*>(encoded.data()),
                                     static_cast<int>(encoded.size()));
  if (length < 0) return std::nullopt;
  // EVP_DecodeBlock counts the bytes that '=' padding stands for.
  std::size_t size = static_cast<std::size_t>(length);
  for (std::size_t i = encoded.size(); i > 0 && encoded[i - 1] == '=' && size > 0; --i) --size;
  const std::string_view text(decoded.data(), size);
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon + 1 == text.size()) return std::nullopt;
  return text.substr(colon + 1);
}

}  // namespace

std::optional<std::string_view> presented_token(std::string_view authorization, std::size_t count,
                                                std::string_view password_parameter,
                                                std::string& decoded) {
  if (count == 0) {
    if (password_parameter.empty()) return std::nullopt;
    return password_parameter;
  }
  if (count > 1) return std::nullopt;
  if (auto token = bearer_credentials(authorization)) return token;
  if (auto token = after_scheme(authorization, "token")) return token;
  if (auto encoded = after_scheme(authorization, "basic")) return basic_password(*encoded, decoded);
  return std::nullopt;
}

}  // namespace servertrack::http
