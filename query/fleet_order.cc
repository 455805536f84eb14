#include "query/fleet_order.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <fmt/format.h>

#include "shm/name.h"

namespace servertrack::query {
namespace {

constexpr std::string_view kNoValue = "none";

// Splits off the text before the first '.'; false when there is none.
bool take_field(std::string_view& rest, std::string_view& field) {
  const auto dot = rest.find('.');
  if (dot == std::string_view::npos) return false;
  field = rest.substr(0, dot);
  rest.remove_prefix(dot + 1);
  return true;
}

}  // namespace

const char* describe(FleetSort sort) noexcept {
  switch (sort) {
    case FleetSort::cpu: return "cpu";
    case FleetSort::ram: return "ram";
    case FleetSort::cpu_peak: return "cpu_peak";
    case FleetSort::ram_peak: return "ram_peak";
    case FleetSort::name: return "name";
    case FleetSort::last_sample: return "last_sample";
  }
  return "cpu";
}

const char* describe(SortOrder order) noexcept { return order == SortOrder::asc ? "asc" : "desc"; }

std::optional<FleetSort> parse_fleet_sort(std::string_view text) noexcept {
  for (FleetSort sort : {FleetSort::cpu, FleetSort::ram, FleetSort::cpu_peak, FleetSort::ram_peak, FleetSort::name,
                         FleetSort::last_sample}) {
    if (text == describe(sort)) return sort;
  }
  return std::nullopt;
}

std::optional<SortOrder> parse_sort_order(std::string_view text) noexcept {
  if (text == "asc") return SortOrder::asc;
  if (text == "desc") return SortOrder::desc;
  return std::nullopt;
}

SortOrder default_order(FleetSort sort) noexcept {
  return sort == FleetSort::name ? SortOrder::asc : SortOrder::desc;
}

bool FleetOrder::before(const FleetKey& a, const FleetKey& b) const noexcept {
  if (sort == FleetSort::name) return order == SortOrder::asc ? a.name < b.name : a.name > b.name;
  if (a.value.has_value() != b.value.has_value()) return a.value.has_value();
  if (a.value && *a.value != *b.value) {
    return order == SortOrder::asc ? *a.value < *b.value : *a.value > *b.value;
  }
  return a.name < b.name;
}

std::string encode_cursor(const FleetOrder& order, const FleetKey& key) {
  const std::string value = key.value ? fmt::format("{:016x}", std::bit_cast<std::uint64_t>(*key.value))
                                      : std::string(kNoValue);
  return fmt::format("{}.{}.{}.{}", describe(order.sort), describe(order.order), value, key.name);
}

DecodedCursor decode_cursor(const FleetOrder& order, std::string_view text) {
  std::string_view rest = text, sort, direction, value;
  if (!take_field(rest, sort) || !take_field(rest, direction) || !take_field(rest, value) ||
      !shm::is_valid_name(rest)) {
    return {std::nullopt, "cursor must be the next_cursor of a previous page, unchanged"};
  }
  if (sort != describe(order.sort) || direction != describe(order.order)) {
    return {std::nullopt, fmt::format("this cursor is for another sort or order than sort={}&order={}; "
                                      "give the sort and order of the page it came from, or leave "
                                      "the cursor out to start again",
                                      describe(order.sort), describe(order.order))};
  }
  FleetKey key{std::nullopt, rest};
  if (value != kNoValue) {
    std::uint64_t bits = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), bits, 16);
    const double decoded = std::bit_cast<double>(bits);
    if (value.size() != 16 || error != std::errc() || end != value.data() + value.size() ||
        !std::isfinite(decoded)) {
      return {std::nullopt, "cursor must be the next_cursor of a previous page, unchanged"};
    }
    key.value = decoded;
  }
  return {key, ""};
}

}  // namespace servertrack::query
