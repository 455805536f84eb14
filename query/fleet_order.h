// The order of GET /fleet and its page cursor.
//
// Every row has a key (its sort value, when it has one, and its name). Rows are
// totally ordered: by value (desc or asc), rows without a value after all rows
// with one, ties by name ascending; sort=name orders by name alone. A cursor is
// the key of a page's last row, so the next page is "the rows ordered after it"
// and stays correct however many rows share a value. A row whose value changed
// between two pages may be skipped or shown twice; no row is shown twice in one
// page. Cursor text (opaque to clients; names never contain '.'):
//   <sort>.<order>.<16 hex digits of the value's IEEE bits, or "none">.<name>
//
// Pure functions; any thread; no allocation except the cursor text.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace servertrack::query {

enum class FleetSort { cpu, ram, cpu_peak, ram_peak, name, last_sample };
enum class SortOrder { asc, desc };

const char* describe(FleetSort sort) noexcept;
const char* describe(SortOrder order) noexcept;
std::optional<FleetSort> parse_fleet_sort(std::string_view text) noexcept;
std::optional<SortOrder> parse_sort_order(std::string_view text) noexcept;
// cpu, ram, cpu_peak, ram_peak and last_sample list the biggest first; name
// from A to Z.
SortOrder default_order(FleetSort sort) noexcept;

struct FleetKey {
  std::optional<double> value;  // finite; absent: no sample in the window
  std::string_view name;
};

struct FleetOrder {
  FleetSort sort = FleetSort::cpu;
  SortOrder order = SortOrder::desc;
  // True when `a` is listed before `b`.
  bool before(const FleetKey& a, const FleetKey& b) const noexcept;
};

std::string encode_cursor(const FleetOrder& order, const FleetKey& key);

// The key a cursor holds (its name points into `text`), or the sentence for
// a 400 body: not a cursor, or one made for another sort or order.
struct DecodedCursor {
  std::optional<FleetKey> key;
  std::string error;
};
DecodedCursor decode_cursor(const FleetOrder& order, std::string_view text);

}  // namespace servertrack::query
