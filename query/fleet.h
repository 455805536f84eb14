// GET /fleet: every server at a glance, hottest first, a page at a time.
//   ?sort=cpu|ram|cpu_peak|ram_peak|name|last_sample  (default cpu)
//   ?order=asc|desc    (default desc; asc for sort=name)
//   ?prefix=web        only names starting with it
//   ?stale=300         only servers silent for at least that many seconds
//   ?limit=100         rows per page, 1..1000
//   ?cursor=...        the next_cursor of the previous page (query/fleet_order.h)
//   ?cursor_included=1 list the cursor's own row too (the merged fleet's
//                      request to the nodes after its page's last row's node,
//                      query/merged_fleet.h)
// -> {"now": T, "sort": "cpu", "order": "desc", "total": N,
//     "servers": [{"name": "web_1", "last_sample": T, "cpu": 87.5, "ram": 40, "latest_minute": M,
//                  "cpu_peak": 99, "ram_peak": 41,
//                  "last_60_minutes": {"start": S, "step": 60, "cpu": [...], "ram": [...]}}],
//     "next_cursor": "..." | null}
// "last_sample" is the time of the newest sample the server holds (its stated
// "time" when backfilled, else its arrival); `stale` and expiry are judged by
// it. "cpu" and "ram" are the means of the server's latest minute with
// samples in the last 60 minutes, current or not (null for a metric without
// samples in it), and "latest_minute" is when that minute began (all three
// null when it has none); "cpu_peak" and "ram_peak" are the largest samples of
// the clock hour of its newest sample, when that hour is in the last 24 (null
// likewise); "total" counts the servers that match prefix and stale, on every
// page. A server is listed once its first sample is recorded, and no longer
// once deleted or silent for longer than its longest window (expired: stale
// values beyond that list nothing).
//
// Called by the query worker's handler on a connection thread; reads the
// segment lock-free like any reader. Cost: one walk of the slot table touching
// 3 cache lines per server, a bounded heap of limit + 1 rows, then one whole
// slot copy per row shown: O(capacity + matches * log limit), memory O(limit).
#pragma once

#include <httplib.h>

#include <cstddef>
#include <cstdint>
#include <fmt/format.h>
#include <optional>
#include <string>
#include <variant>

#include "query/fleet_order.h"
#include "query/list_params.h"
#include "shm/segment.h"

namespace servertrack::query {

struct FleetQuery {
  FleetOrder order;
  std::string prefix;
  std::optional<std::int64_t> stale_seconds;
  std::size_t limit = kDefaultListLimit;
  std::string cursor;  // "" for the first page
  bool cursor_included = false;
};

// The query, or the sentence for a 400 body.
std::variant<FleetQuery, std::string> parse_fleet_query(const httplib::Request& request);

// Appends the page at time `now`, or returns the sentence for a 400 body (a
// cursor that is not one) having appended nothing.
std::optional<std::string> append_fleet_json(shm::Segment& segment, const FleetQuery& query,
                                             std::int64_t now, fmt::memory_buffer& out);

}  // namespace servertrack::query
