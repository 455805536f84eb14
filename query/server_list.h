// GET /servers: the servers the segment knows, sorted by name, with the unix
// time of each one's newest sample, a page at a time (a server deleted or
// silent for 24 hours is not listed):
//   ?prefix=web   only names starting with it (default: all)
//   ?after=web_9  only names sorting after it, for the next page (default: none)
//   ?limit=50     at most this many, 1..1000 (default 100)
// -> {"servers": [{"name": "web_1", "last_sample": 1795894567}, ...],
//     "next_after": "web_50" | null}   (null: this page is the last)
//
// Called by the query worker's handler on a connection thread. Walks the whole
// slot table (capacity slots, lock-free reads) and keeps the best `limit`
// names: O(capacity + matches * log limit); a cold path.
#pragma once

#include <httplib.h>

#include <cstddef>
#include <fmt/format.h>
#include <string>
#include <string_view>
#include <variant>

#include "query/list_params.h"
#include "shm/segment.h"

namespace servertrack::query {

struct ServerListQuery {
  std::string prefix;
  std::string after;
  std::size_t limit = kDefaultListLimit;
};

// The query, or a message saying which parameter is wrong (answer 400).
std::variant<ServerListQuery, std::string> parse_server_list_query(const httplib::Request& request);

void append_server_list_json(const shm::Segment& segment, const ServerListQuery& query,
                             fmt::memory_buffer& out);

}  // namespace servertrack::query
