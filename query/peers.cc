#include "query/peers.h"

#include <algorithm>
#include <charconv>
#include <fmt/format.h>

namespace servertrack::query {
namespace {

constexpr std::string_view kForm = "use NAME=HOST:PORT[,NAME=HOST:PORT...] (the query ports), e.g. "
                                   "a=10.0.0.11:8888,b=10.0.0.12:8888";

std::variant<Peer, std::string> parse_peer(std::string_view text) {
  const auto equals = text.find('=');
  const auto colon = text.rfind(':');
  if (equals == std::string_view::npos || colon == std::string_view::npos || colon < equals) {
    return fmt::format("--peers: '{}' is not NAME=HOST:PORT; {}", std::string(text), kForm);
  }
  Peer peer;
  peer.node = std::string(text.substr(0, equals));
  std::string_view host = text.substr(equals + 1, colon - equals - 1);
  const std::string_view port = text.substr(colon + 1);
  if (!is_node_name(peer.node)) {
    return fmt::format("--peers: node name '{}' must be 1 to 32 of a-z, 0-9, _ and -, starting with a letter "
                       "or digit (the name its --node line gives it)",
                       peer.node);
  }
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), peer.port);
  if (host.empty() || host.find_first_of("[]/ ") != std::string_view::npos || error != std::errc() ||
      end != port.data() + port.size() || peer.port < 1 || peer.port > 65535) {
    return fmt::format("--peers: '{}' is not NAME=HOST:PORT with a port 1..65535; {}", std::string(text), kForm);
  }
  peer.host = std::string(host);
  return peer;
}

}  // namespace

bool is_node_name(std::string_view name) noexcept {
  const auto allowed = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'; };
  return !name.empty() && name.size() <= 32 && name[0] != '_' && name[0] != '-' &&
         std::all_of(name.begin(), name.end(), allowed);
}

std::variant<std::vector<Peer>, std::string> parse_peers(std::string_view text) {
  std::vector<Peer> peers;
  if (text.empty()) return peers;
  for (;;) {
    const auto comma = text.find(',');
    auto parsed = parse_peer(text.substr(0, comma));
    if (auto* error = std::get_if<std::string>(&parsed)) return std::move(*error);
    peers.push_back(std::move(std::get<Peer>(parsed)));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  std::sort(peers.begin(), peers.end(), [](const Peer& a, const Peer& b) { return a.node < b.node; });
  for (std::size_t i = 1; i < peers.size(); ++i) {
    if (peers[i].node == peers[i - 1].node) return fmt::format("--peers names node {} twice", peers[i].node);
  }
  if (peers.size() > kMaxPeers) return fmt::format("--peers: at most {} nodes", kMaxPeers);
  return peers;
}

bool asks_for_own_node(const httplib::Request& request) {
  return request.get_header_value(kScopeHeader) == kNodeScope;
}

}  // namespace servertrack::query
