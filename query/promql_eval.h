// Evaluates a parsed PromQL-subset expression (query/promql_parser.h) against
// the segment at a list of evenly spaced times: one time for an instant query,
// start, start + step, ... <= end for a range query. The value of a series at
// a time is the bucket holding it (query/prometheus_values.h); aggregations,
// topk/bottomk and operators then apply time by time, as in Prometheus.
//
// Called by the query worker's handlers on connection threads. Cost: one walk
// of the slot table per selector, then one slot copy per server it selects, then
// O(series x times) arithmetic; memory O(series x times). A selector matching
// more than kMaxSelectedServers servers, or a query holding more than
// kMaxLoadedPoints values, is refused before it is loaded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "query/promql_parser.h"
#include "shm/segment.h"

namespace servertrack::query::promql {

inline constexpr std::size_t kMaxSelectedServers = 10'000;
inline constexpr std::size_t kMaxLoadedPoints = 5'000'000;

// Label name and value pairs sorted by name; __name__ first when present.
using Labels = std::vector<std::pair<std::string, std::string>>;

struct Series {
  Labels labels;
  std::vector<std::optional<double>> values;  // one per evaluation time
};

struct Times {
  std::int64_t start_ms = 0;
  std::int64_t step_ms = 1;
  std::size_t count = 1;
  std::int64_t at(std::size_t i) const noexcept { return start_ms + static_cast<std::int64_t>(i) * step_ms; }
};

// A scalar has one value per time; a vector, its series.
using Value = std::variant<std::vector<double>, std::vector<Series>>;

// Prometheus's error types: "bad_data" (400), "execution" (422), "unavailable" (503).
struct QueryError {
  const char* type;
  int status;
  std::string message;
};

// Only servers whose name starts with `name_prefix` (the caller's token's; ""
// for all) are seen.
std::variant<Value, QueryError> evaluate(const Expr& expr, shm::Segment& segment, const Times& times,
                                         std::int64_t now, std::string_view name_prefix);

// The label sets of the series `selector` selects among servers not expired at
// `now` whose newest sample is at or after `since` (unix seconds), sorted; the
// same cap as evaluate().
std::variant<std::vector<Labels>, QueryError> select_series(const VectorSelector& selector,
                                                            shm::Segment& segment, std::int64_t now,
                                                            std::int64_t since, std::string_view name_prefix);

}  // namespace servertrack::query::promql
