#include "http/sibling.h"

#include <fmt/format.h>

namespace servertrack::http {
namespace {

// "host:port" -> "host"; "[::1]:8889" -> "[::1]"; "host" -> "host".
std::string_view without_port(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(0, close + 1);
  }
  const auto colon = host.find(':');
  return colon == std::string_view::npos ? host : host.substr(0, colon);
}

}  // namespace

std::string sibling_location(std::string_view sibling_url, std::string_view host_header,
                             std::string_view fallback_host, int sibling_default_port,
                             std::string_view target) {
  if (!sibling_url.empty()) {
    if (sibling_url.back() == '/') sibling_url.remove_suffix(1);
    return fmt::format("{}{}", sibling_url, target);
  }
  std::string_view host = without_port(host_header);
  if (host.empty()) host = fallback_host;
  return fmt::format("http://{}:{}{}", host, sibling_default_port, target);
}

}  // namespace servertrack::http
