// GET /servers of a sharded fleet, from a query worker given --peers: the
// names of every node in one list, sorted and paged as one node's /servers is
// (query/server_list.h: the same prefix, after and limit). A name held by two
// nodes (history left behind when a node was added) is listed once, with the
// newer last_sample, as the name completion wants it.
// -> {"servers": [{"name": "web_1", "last_sample": T, "node": "b"}, ...],
//     "next_after": "web_50" | null, then query/peer_fetch.h's "nodes",
//     "unreachable" and "node_errors"}
//
// Called by the query worker's /servers handler on a connection thread; one
// parallel round of requests to the peers, then O(peers * limit * log).
#pragma once

#include <fmt/format.h>
#include <vector>

#include "query/peer_fetch.h"
#include "query/peers.h"
#include "query/server_list.h"

namespace servertrack::query {

void append_merged_server_list_json(const std::vector<Peer>& peers, const ServerListQuery& query,
                                    const FetchPeers& fetch, fmt::memory_buffer& out);

}  // namespace servertrack::query
