#include "query/merged_fleet.h"

#include <simdjson.h>

#include <algorithm>
#include <iterator>
#include <string_view>

#include "common/json_string.h"

namespace servertrack::query {
namespace {

constexpr std::string_view kBadCursor = "cursor must be the next_cursor of a previous page, unchanged";

// A row of one node's page, as the node wrote it (in that page's parser).
struct NodeRow {
  std::optional<double> value;
  std::string_view name;
  std::size_t peer;  // index in the peers, which are sorted by node name
  simdjson::dom::object row;
  FleetKey key() const { return {value, name}; }
};

std::string fleet_target(const FleetQuery& query, std::string_view cursor, bool cursor_included) {
  // Every value is of [A-Za-z0-9_.-] (checked when parsed), so none needs escaping.
  std::string target = fmt::format("/fleet?sort={}&order={}&limit={}", describe(query.order.sort),
                                   describe(query.order.order), query.limit);
  if (!query.prefix.empty()) target += "&prefix=" + query.prefix;
  if (query.stale_seconds) target += fmt::format("&stale={}", *query.stale_seconds);
  if (!cursor.empty()) target += fmt::format("&cursor={}{}", cursor, cursor_included ? "&cursor_included=1" : "");
  return target;
}

// The value a row was sorted by on its node: the number it shows, in the
// member named like the sort (cpu, ram, cpu_peak, ram_peak, last_sample).
std::optional<double> sort_value(FleetSort sort, simdjson::dom::object row) {
  if (sort == FleetSort::name) return std::nullopt;
  double value = 0;
  if (row[describe(sort)].get_double().get(value) != simdjson::SUCCESS) return std::nullopt;
  return value;
}

// Adds the rows of one node's page; false when it is not a fleet page.
bool take_page(simdjson::dom::parser& parser, const std::string& body, FleetSort sort, std::size_t peer,
               std::vector<NodeRow>& rows, std::uint64_t& total, bool& more) {
  simdjson::dom::object page;
  simdjson::dom::array servers;
  std::uint64_t node_total = 0;
  if (parser.parse(body).get(page) != simdjson::SUCCESS || page["servers"].get(servers) != simdjson::SUCCESS ||
      page["total"].get(node_total) != simdjson::SUCCESS) {
    return false;
  }
  const std::size_t first = rows.size();
  for (simdjson::dom::element element : servers) {
    simdjson::dom::object row;
    std::string_view name;
    if (element.get(row) != simdjson::SUCCESS || row["name"].get(name) != simdjson::SUCCESS) {
      rows.resize(first);
      return false;
    }
    rows.push_back({sort_value(sort, row), name, peer, row});
  }
  simdjson::dom::element next;
  total += node_total;
  more = more || (page["next_cursor"].get(next) == simdjson::SUCCESS && next.is_string());
  return true;
}

}  // namespace

std::optional<std::string> append_merged_fleet_json(const std::vector<Peer>& peers, const FleetQuery& query,
                                                    const FetchPeers& fetch, std::int64_t now,
                                                    fmt::memory_buffer& out) {
  const FleetOrder& order = query.order;
  std::string_view after_node, node_cursor;
  if (!query.cursor.empty()) {
    const std::string_view cursor = query.cursor;
    const auto colon = cursor.find(':');
    if (colon == std::string_view::npos || !is_node_name(cursor.substr(0, colon))) return std::string(kBadCursor);
    after_node = cursor.substr(0, colon);
    node_cursor = cursor.substr(colon + 1);
    const DecodedCursor decoded = decode_cursor(order, node_cursor);
    if (!decoded.key) return decoded.error;
  }
  std::vector<std::string> targets;
  for (const Peer& peer : peers) {
    targets.push_back(fleet_target(query, node_cursor, !node_cursor.empty() && peer.node > after_node));
  }
  std::vector<PeerAnswer> answers = fetch(peers, targets);

  std::vector<simdjson::dom::parser> parsers(peers.size());  // hold the rows' text
  std::vector<NodeRow> rows;
  std::uint64_t total = 0;
  bool more = false;
  for (std::size_t i = 0; i < peers.size(); ++i) {
    if (answers[i].error.empty() && !take_page(parsers[i], answers[i].body, order.sort, i, rows, total, more)) {
      answers[i].error = "answered something that is not a /fleet page";
    }
  }
  const auto listed_before = [&order](const NodeRow& a, const NodeRow& b) {
    if (order.before(a.key(), b.key())) return true;
    return !order.before(b.key(), a.key()) && a.peer < b.peer;
  };
  const std::size_t shown = std::min(rows.size(), query.limit);
  std::partial_sort(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(shown), rows.end(), listed_before);

  auto it = std::back_inserter(out);
  fmt::format_to(it, "{{\"now\":{},\"sort\":\"{}\",\"order\":\"{}\",\"total\":{},\"servers\":[", now,
                 describe(order.sort), describe(order.order), total);
  for (std::size_t i = 0; i < shown; ++i) {
    fmt::format_to(it, "{}{{\"node\":{},", i > 0 ? "," : "", common::json_string(peers[rows[i].peer].node));
    out.append(std::string_view(simdjson::minify(rows[i].row)).substr(1));
  }
  // More rows than shown, or a node that has rows beyond its page: another page.
  const bool next = shown > 0 && (rows.size() > shown || more);
  fmt::format_to(it, "],\"next_cursor\":{}",
                 next ? common::json_string(peers[rows[shown - 1].peer].node + ":" +
                                            encode_cursor(order, rows[shown - 1].key()))
                      : "null");
  append_coverage_json(peers, answers, out);
  out.push_back('}');
  return std::nullopt;
}

}  // namespace servertrack::query
