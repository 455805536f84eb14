// Asks every node of the fleet (query/peers.h) for one page at once: a GET of
// each peer's target with the node-scope header, all peers in parallel, one
// thread each, each bounded by kPeerConnectTimeout to connect and
// kPeerReadTimeout per read (so a stopped node costs nothing, a silent host
// at most about 3 s). A new connection per peer per call.
//
// Called by the query worker's merging handlers on a connection thread, which
// it blocks until every peer answered or timed out (http/serving_threads.h
// hands that thread's other connections to a spare after 5 ms).
#pragma once

#include <chrono>
#include <fmt/format.h>
#include <functional>
#include <string>
#include <vector>

#include "query/peers.h"

namespace servertrack::query {

inline constexpr auto kPeerConnectTimeout = std::chrono::seconds(1);
inline constexpr auto kPeerReadTimeout = std::chrono::seconds(2);

struct PeerAnswer {
  std::string body;   // a 200 answer's body
  std::string error;  // why there is none, e.g. "127.0.0.1:8888: Could not establish connection"; "" on 200
};

// One answer per peer, in the peers' order; targets[i] (path and query) is
// asked of peers[i].
using FetchPeers =
    std::function<std::vector<PeerAnswer>(const std::vector<Peer>& peers, const std::vector<std::string>& targets)>;

// `authorization`: the Authorization header to send (the client's), "" for none.
std::vector<PeerAnswer> fetch_from_peers(const std::vector<Peer>& peers, const std::vector<std::string>& targets,
                                         const std::string& authorization);

// Appends the merged listings' account of the nodes (after their other keys):
//   ,"nodes":["a","b","c"],"unreachable":["b"],"node_errors":{"b":"..."}
// A node is unreachable when its answer has an error (set one for an answer
// that is not the page asked for).
void append_coverage_json(const std::vector<Peer>& peers, const std::vector<PeerAnswer>& answers,
                          fmt::memory_buffer& out);

}  // namespace servertrack::query
