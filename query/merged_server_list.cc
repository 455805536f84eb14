#include "query/merged_server_list.h"

#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>

#include "common/json_string.h"

namespace servertrack::query {
namespace {

struct NodeName {
  std::string name;
  std::int64_t last_sample;
  std::size_t peer;
};

// Adds the names of one node's page; false when it is not a /servers page.
bool take_page(const std::string& body, std::size_t peer, std::vector<NodeName>& names, bool& more) {
  simdjson::dom::parser parser;
  simdjson::dom::object page;
  simdjson::dom::array servers;
  if (parser.parse(body).get(page) != simdjson::SUCCESS || page["servers"].get(servers) != simdjson::SUCCESS) {
    return false;
  }
  const std::size_t first = names.size();
  for (simdjson::dom::element element : servers) {
    std::string_view name;
    std::int64_t last_sample = 0;
    if (element["name"].get(name) != simdjson::SUCCESS ||
        element["last_sample"].get(last_sample) != simdjson::SUCCESS) {
      names.resize(first);
      return false;
    }
    names.push_back({std::string(name), last_sample, peer});
  }
  simdjson::dom::element next;
  more = more || (page["next_after"].get(next) == simdjson::SUCCESS && next.is_string());
  return true;
}

}  // namespace

void append_merged_server_list_json(const std::vector<Peer>& peers, const ServerListQuery& query,
                                    const FetchPeers& fetch, fmt::memory_buffer& out) {
  // Prefix and after are server names or their starts: nothing to escape.
  std::string target = fmt::format("/servers?limit={}", query.limit);
  if (!query.prefix.empty()) target += "&prefix=" + query.prefix;
  if (!query.after.empty()) target += "&after=" + query.after;
  std::vector<PeerAnswer> answers = fetch(peers, std::vector<std::string>(peers.size(), target));

  std::vector<NodeName> names;
  bool more = false;
  for (std::size_t i = 0; i < peers.size(); ++i) {
    if (answers[i].error.empty() && !take_page(answers[i].body, i, names, more)) {
      answers[i].error = "answered something that is not a /servers page";
    }
  }
  // By name, the newest first among a name's copies; then one row per name.
  std::sort(names.begin(), names.end(), [](const NodeName& a, const NodeName& b) {
    return a.name != b.name ? a.name < b.name : a.last_sample > b.last_sample;
  });
  names.erase(std::unique(names.begin(), names.end(),
                          [](const NodeName& a, const NodeName& b) { return a.name == b.name; }),
              names.end());
  const std::size_t shown = std::min(names.size(), query.limit);

  auto it = std::back_inserter(out);
  fmt::format_to(it, "{{\"servers\":[");
  for (std::size_t i = 0; i < shown; ++i) {
    fmt::format_to(it, "{}{{\"name\":{},\"last_sample\":{},\"node\":{}}}", i > 0 ? "," : "",
                   common::json_string(names[i].name), names[i].last_sample,
                   common::json_string(peers[names[i].peer].node));
  }
  // More names than shown, or a node with names beyond its page: another page.
  const bool next = shown > 0 && (names.size() > shown || more);
  fmt::format_to(it, "],\"next_after\":{}", next ? common::json_string(names[shown - 1].name) : "null");
  append_coverage_json(peers, answers, out);
  out.push_back('}');
}

}  // namespace servertrack::query
