// GET /fleet of a sharded fleet, from a query worker given --peers: every
// node's servers in one list, sorted and paged as one node's /fleet is
// (query/fleet.h: the same sort, order, prefix, stale, limit and cursor).
// -> query/fleet.h's answer, each row with the node that holds it first
//    ({"node": "b", "name": ...}), "total" summed over the nodes that
//    answered, then query/peer_fetch.h's "nodes", "unreachable" and
//    "node_errors": a node that does not answer is named, never left out
//    silently.
//
// Order: query/fleet_order.h's, then by node name: the same name on two nodes
// (history left behind when a node was added) is two rows, never one lost at a
// page boundary. The cursor is "<node>:<node cursor>", the last row's node and
// its key; the next page asks each node for `limit` rows after that key
// (cursor_included=1 for the nodes after the last row's node), so every page is
// exact with each node's own view of the moment.
//
// Called by the query worker's /fleet handler on a connection thread; one
// parallel round of requests to the peers, then O(peers * limit * log).
#pragma once

#include <cstdint>
#include <fmt/format.h>
#include <optional>
#include <string>
#include <vector>

#include "query/fleet.h"
#include "query/peer_fetch.h"
#include "query/peers.h"

namespace servertrack::query {

// Appends the merged page at time `now`, or returns the sentence for a 400
// body (a cursor that is not a merged one) having asked nobody.
std::optional<std::string> append_merged_fleet_json(const std::vector<Peer>& peers, const FleetQuery& query,
                                                    const FetchPeers& fetch, std::int64_t now,
                                                    fmt::memory_buffer& out);

}  // namespace servertrack::query
