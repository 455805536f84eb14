// The nodes of a sharded fleet, as the query worker's --peers names them, and
// the header that asks a worker for its own node's view only.
//
//   --peers a=10.0.0.11:8888,b=10.0.0.12:8888,c=10.0.0.13:8888
//
// Every node of the fleet, this one included, by the names and query ports the
// balancer's --node lines give them (deploy/haproxy/generate.py): a worker
// given --peers answers GET /fleet and GET /servers for the whole fleet by
// asking each of them (query/peer_fetch.h) with kScopeHeader set, which makes
// each answer for its own segment only. The balancer sets the same header on
// /node/<node>/ (that node's own view) and removes it from everything else.
//
// Pure functions; any thread; called at start (parse) and per request (scope).
#pragma once

#include <httplib.h>

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace servertrack::query {

inline constexpr const char* kScopeHeader = "X-ServerTrack-Scope";
inline constexpr const char* kNodeScope = "node";
inline constexpr std::size_t kMaxPeers = 64;

struct Peer {
  std::string node;  // a-z, 0-9, _ and -, at most 32: as generate.py's --node
  std::string host;  // a name, an IPv4 address, or an IPv6 address without brackets
  int port = 0;
};

// The peers (sorted by node name, which is the merged listings' tie order), or
// the sentence saying what is wrong. "" is no peers.
std::variant<std::vector<Peer>, std::string> parse_peers(std::string_view text);

// A node's name: 1 to 32 of a-z, 0-9, _ and -, starting with a letter or digit.
bool is_node_name(std::string_view name) noexcept;

// True when the request asks for this node's own segment only.
bool asks_for_own_node(const httplib::Request& request);

}  // namespace servertrack::query
