// The merged fleet (query/merged_fleet.h, query/merged_server_list.h) over
// three real segments, each answering as its node's query worker would
// (query/fleet.h, query/server_list.h): the merged pages, walked with their
// cursors at every sort, order and page size, list every node's rows exactly
// once in the one order; a node that does not answer is named; --peers parsing.
#include <gtest/gtest.h>
#include <httplib.h>
#include <simdjson.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "query/merged_fleet.h"
#include "query/merged_server_list.h"
#include "query/peers.h"
#include "tests/shm/support.h"

namespace servertrack::query {
namespace {

constexpr std::int64_t kNow = 1795894567;

httplib::Request request_of(const std::string& target) {
  httplib::Request req;
  const auto question = target.find('?');
  req.path = target.substr(0, question);
  std::string rest = question == std::string::npos ? "" : target.substr(question + 1);
  while (!rest.empty()) {
    const auto amp = std::min(rest.find('&'), rest.size());
    const std::string pair = rest.substr(0, amp);
    const auto equals = pair.find('=');
    req.params.emplace(pair.substr(0, equals), pair.substr(equals + 1));
    rest.erase(0, std::min(amp + 1, rest.size()));
  }
  return req;
}

// Three nodes on three segments; a name on two of them (left behind when a
// node was added) with the same load, so its rows tie on every key.
struct ThreeNodes {
  shm::test::TestSegment a{64}, b{64}, c{64};
  std::vector<Peer> peers{{"a", "127.0.0.1", 1}, {"b", "127.0.0.1", 2}, {"c", "127.0.0.1", 3}};
  std::map<std::string, std::string> down;  // node -> the error its fetch gives
  int fetches = 0;
  std::int64_t now;

  // At `now`: /servers reads the wall clock, so its tests give it.
  explicit ThreeNodes(std::int64_t now = kNow) : now(now) {
    shm::Segment* segments[] = {&*a, &*b, &*c};
    for (int i = 0; i < 24; ++i) {
      const std::string name = "srv_" + std::to_string(i);
      const double cpu = (i * 7) % 5 * 10;  // many ties
      const std::int64_t at = now - (i % 4) * 20 - (i % 6 == 0 ? 3 * 3600 : 0);  // some without a recent minute
      EXPECT_EQ(segments[i % 3]->record(name, cpu, 100 - cpu, at), shm::Status::ok);
    }
    for (shm::Segment* segment : {&*a, &*c}) EXPECT_EQ(segment->record("twin", 30, 70, now - 20), shm::Status::ok);
    EXPECT_EQ(a->record("old_twin", 1, 1, now - 5 * 3600), shm::Status::ok);
    EXPECT_EQ(b->record("old_twin", 1, 1, now - 5 * 3600), shm::Status::ok);
  }

  shm::Segment& segment(const std::string& node) { return node == "a" ? *a : node == "b" ? *b : *c; }

  // Each node answers its target as its own worker would.
  FetchPeers fetch() {
    return [this](const std::vector<Peer>& peers, const std::vector<std::string>& targets) {
      ++fetches;
      std::vector<PeerAnswer> answers;
      for (std::size_t i = 0; i < peers.size(); ++i) {
        if (down.contains(peers[i].node)) {
          answers.push_back({"", down[peers[i].node]});
          continue;
        }
        const httplib::Request req = request_of(targets[i]);
        fmt::memory_buffer out;
        if (req.path == "/fleet") {
          const auto query = parse_fleet_query(req);
          EXPECT_TRUE(std::holds_alternative<FleetQuery>(query)) << targets[i];
          EXPECT_FALSE(append_fleet_json(segment(peers[i].node), std::get<FleetQuery>(query), now, out));
        } else {
          const auto query = parse_server_list_query(req);
          EXPECT_TRUE(std::holds_alternative<ServerListQuery>(query)) << targets[i];
          append_server_list_json(segment(peers[i].node), std::get<ServerListQuery>(query), out);
        }
        answers.push_back({fmt::to_string(out), ""});
      }
      return answers;
    };
  }
};

struct Row {
  std::string node, name;
  bool operator==(const Row&) const = default;
};

struct MergedPage {
  std::vector<Row> rows;
  std::int64_t total = -1;
  std::string next;  // "" when null
  std::vector<std::string> unreachable;
  std::string json;
};

MergedPage parse(const std::string& json, const char* next_key) {
  MergedPage page;
  page.json = json;
  simdjson::dom::parser parser;
  const simdjson::dom::element root = parser.parse(json);
  if (root["total"].is_int64()) page.total = root["total"].get_int64();
  for (simdjson::dom::element row : root["servers"].get_array()) {
    page.rows.push_back({std::string(std::string_view(row["node"].get_string())),
                         std::string(std::string_view(row["name"].get_string()))});
  }
  if (!root[next_key].is_null()) page.next = std::string_view(root[next_key].get_string());
  for (simdjson::dom::element node : root["unreachable"].get_array()) {
    page.unreachable.emplace_back(std::string_view(node.get_string()));
  }
  return page;
}

MergedPage merged_fleet(ThreeNodes& nodes, const std::string& target) {
  const auto query = parse_fleet_query(request_of(target));
  EXPECT_TRUE(std::holds_alternative<FleetQuery>(query)) << target;
  fmt::memory_buffer out;
  const auto error = append_merged_fleet_json(nodes.peers, std::get<FleetQuery>(query), nodes.fetch(), kNow, out);
  EXPECT_FALSE(error) << *error;
  return parse(fmt::to_string(out), "next_cursor");
}

// Every node's whole listing in one page each, merged by hand: the order the
// merged pages must follow.
std::vector<Row> expected_rows(ThreeNodes& nodes, const std::string& sort_and_order) {
  struct Keyed {
    FleetKey key;
    Row row;
    std::string json;
  };
  std::vector<std::pair<std::string, std::string>> pages;  // node, its whole page
  for (const char* node : {"a", "b", "c"}) {
    const auto query = parse_fleet_query(request_of("/fleet?limit=1000&" + sort_and_order));
    fmt::memory_buffer out;
    EXPECT_FALSE(append_fleet_json(nodes.segment(node), std::get<FleetQuery>(query), kNow, out));
    pages.emplace_back(node, fmt::to_string(out));
  }
  const FleetOrder order = std::get<FleetQuery>(parse_fleet_query(request_of("/fleet?" + sort_and_order))).order;
  std::vector<std::pair<FleetKey, Row>> rows;
  std::vector<std::string> names;  // keeps the keys' names alive
  names.reserve(100);
  for (const auto& [node, json] : pages) {
    simdjson::dom::parser parser;
    for (simdjson::dom::element row : parser.parse(json)["servers"].get_array()) {
      names.emplace_back(std::string_view(row["name"].get_string()));
      std::optional<double> value;
      const char* field = describe(order.sort);
      if (order.sort != FleetSort::name && !row[field].is_null()) value = double(row[field].get_double());
      rows.push_back({{value, names.back()}, {node, names.back()}});
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [&](const auto& x, const auto& y) {
    if (order.before(x.first, y.first)) return true;
    return !order.before(y.first, x.first) && x.second.node < y.second.node;
  });
  std::vector<Row> out;
  for (const auto& [key, row] : rows) out.push_back(row);
  return out;
}

TEST(MergedFleet, PagesWalkEveryNodesRowsOnceInOneOrderAtEverySortAndPageSize) {
  ThreeNodes nodes;
  for (const char* sort : {"cpu", "ram", "cpu_peak", "ram_peak", "name", "last_sample"}) {
    for (const char* order : {"asc", "desc"}) {
      const std::string sort_and_order = std::string("sort=") + sort + "&order=" + order;
      const std::vector<Row> expected = expected_rows(nodes, sort_and_order);
      ASSERT_EQ(expected.size(), 28u);  // 24 + the twin twice + the old twin twice
      for (int limit : {1, 2, 3, 5, 7, 100}) {
        std::vector<Row> walked;
        std::string cursor;
        for (int page = 0; page < 40; ++page) {
          const MergedPage merged = merged_fleet(
              nodes, "/fleet?" + sort_and_order + "&limit=" + std::to_string(limit) +
                         (cursor.empty() ? "" : "&cursor=" + cursor));
          EXPECT_EQ(merged.total, 28) << merged.json;
          EXPECT_LE(merged.rows.size(), std::size_t(limit));
          walked.insert(walked.end(), merged.rows.begin(), merged.rows.end());
          cursor = merged.next;
          if (cursor.empty()) break;
        }
        EXPECT_EQ(walked, expected) << sort_and_order << " limit=" << limit;
      }
    }
  }
}

TEST(MergedFleet, ANodeThatDoesNotAnswerIsNamedAndTheOthersAreListed) {
  ThreeNodes nodes;
  nodes.down["b"] = "127.0.0.1:2: Could not establish connection";
  const MergedPage page = merged_fleet(nodes, "/fleet?limit=100");
  EXPECT_EQ(page.unreachable, std::vector<std::string>{"b"});
  EXPECT_NE(page.json.find(R"("nodes":["a","b","c"])"), std::string::npos) << page.json;
  EXPECT_NE(page.json.find(R"("node_errors":{"b":"127.0.0.1:2: Could not establish connection"})"),
            std::string::npos) << page.json;
  EXPECT_EQ(page.rows.size(), 10u + 9u);  // a's (twins included) and c's
  for (const Row& row : page.rows) EXPECT_NE(row.node, "b");
  EXPECT_EQ(page.total, 19);
}

TEST(MergedFleet, ANodeAnsweringSomethingElseIsNamedToo) {
  ThreeNodes nodes;
  const FetchPeers real = nodes.fetch();
  const FetchPeers garbled = [&](const std::vector<Peer>& peers, const std::vector<std::string>& targets) {
    auto answers = real(peers, targets);
    answers[2].body = R"({"error": "not what you asked"})";
    return answers;
  };
  fmt::memory_buffer out;
  const auto query = std::get<FleetQuery>(parse_fleet_query(request_of("/fleet")));
  EXPECT_FALSE(append_merged_fleet_json(nodes.peers, query, garbled, kNow, out));
  const MergedPage page = parse(fmt::to_string(out), "next_cursor");
  EXPECT_EQ(page.unreachable, std::vector<std::string>{"c"});
  EXPECT_NE(page.json.find("answered something that is not a /fleet page"), std::string::npos);
}

TEST(MergedFleet, ACursorThatIsNotAMergedOneIsRefusedBeforeAnyNodeIsAsked) {
  ThreeNodes nodes;
  const std::string one_node_cursor = encode_cursor({}, {50.0, "srv_3"});
  for (const std::string& cursor : std::vector<std::string>{one_node_cursor, "a:nonsense", "A:" + one_node_cursor, ":" + one_node_cursor,
                                    "a:" + encode_cursor({FleetSort::ram, SortOrder::desc}, {1.0, "x"})}) {
    const auto query = parse_fleet_query(request_of("/fleet?cursor=" + cursor));
    fmt::memory_buffer out;
    const auto error = append_merged_fleet_json(nodes.peers, std::get<FleetQuery>(query), nodes.fetch(), kNow, out);
    EXPECT_TRUE(error) << cursor;
    EXPECT_EQ(out.size(), 0u);
  }
  EXPECT_EQ(nodes.fetches, 0);
  const auto refused = parse_fleet_query(request_of("/fleet?cursor_included=yes"));
  ASSERT_TRUE(std::holds_alternative<std::string>(refused));
  EXPECT_EQ(std::get<std::string>(refused), "cursor_included must be 1 or 0");
}

MergedPage merged_servers(ThreeNodes& nodes, const std::string& target) {
  const auto query = parse_server_list_query(request_of(target));
  EXPECT_TRUE(std::holds_alternative<ServerListQuery>(query)) << target;
  fmt::memory_buffer out;
  append_merged_server_list_json(nodes.peers, std::get<ServerListQuery>(query), nodes.fetch(), out);
  return parse(fmt::to_string(out), "next_after");
}

TEST(MergedServerList, PagesListEveryNameOnceSortedWithTheNodeOfItsNewestSample) {
  ThreeNodes nodes(common::wall_clock_unix_seconds());
  ASSERT_EQ(nodes.c->record("twin", 30, 70, nodes.now - 5), shm::Status::ok);  // c's copy is the newer
  for (int limit : {1, 2, 3, 4, 7, 100}) {
    std::vector<Row> walked;
    std::string after;
    for (int page = 0; page < 40; ++page) {
      const MergedPage merged = merged_servers(
          nodes, "/servers?limit=" + std::to_string(limit) + (after.empty() ? "" : "&after=" + after));
      EXPECT_LE(merged.rows.size(), std::size_t(limit));
      walked.insert(walked.end(), merged.rows.begin(), merged.rows.end());
      after = merged.next;
      if (after.empty()) break;
    }
    ASSERT_EQ(walked.size(), 26u) << "limit=" << limit;  // 24 + twin + old_twin, once each
    EXPECT_TRUE(std::is_sorted(walked.begin(), walked.end(),
                               [](const Row& x, const Row& y) { return x.name < y.name; }));
    const auto twin = std::find_if(walked.begin(), walked.end(), [](const Row& r) { return r.name == "twin"; });
    ASSERT_NE(twin, walked.end());
    EXPECT_EQ(twin->node, "c");
    const auto srv_4 = std::find_if(walked.begin(), walked.end(), [](const Row& r) { return r.name == "srv_4"; });
    ASSERT_NE(srv_4, walked.end());
    EXPECT_EQ(srv_4->node, "b");
  }
  nodes.down["a"] = "127.0.0.1:1: Connection timed out";
  const MergedPage partial = merged_servers(nodes, "/servers?prefix=srv_1");
  EXPECT_EQ(partial.unreachable, std::vector<std::string>{"a"});
  for (const Row& row : partial.rows) EXPECT_NE(row.node, "a");
}

TEST(Peers, ParsedSortedByNodeAndCheckedWithASentence) {
  const auto parsed = parse_peers("c=10.0.0.13:8888,a=[::1]:8888,b=db-2.example.com:9000");
  ASSERT_TRUE(std::holds_alternative<std::vector<Peer>>(parsed)) << std::get<std::string>(parsed);
  const auto& peers = std::get<std::vector<Peer>>(parsed);
  ASSERT_EQ(peers.size(), 3u);
  EXPECT_EQ(peers[0].node, "a");
  EXPECT_EQ(peers[0].host, "::1");
  EXPECT_EQ(peers[1].host, "db-2.example.com");
  EXPECT_EQ(peers[1].port, 9000);
  EXPECT_EQ(peers[2].host, "10.0.0.13");
  EXPECT_TRUE(std::get<std::vector<Peer>>(parse_peers("")).empty());
  for (const char* bad : {"a", "a=host", "a=host:0", "a=host:65536", "a=host:88x", "A=host:1", "_a=host:1",
                          "a=:1", "a=h:1,", "a=h:1,,b=h:2", "a=h:1,a=h:2", "a=h/x:1"}) {
    const auto refused = parse_peers(bad);
    ASSERT_TRUE(std::holds_alternative<std::string>(refused)) << bad;
    EXPECT_NE(std::get<std::string>(refused).find("--peers"), std::string::npos) << bad;
  }
}

TEST(Peers, OnlyTheNodeScopeHeaderAsksForTheOwnNode) {
  httplib::Request req;
  EXPECT_FALSE(asks_for_own_node(req));
  req.headers.emplace(kScopeHeader, "fleet");
  EXPECT_FALSE(asks_for_own_node(req));
  req.headers.clear();
  req.headers.emplace(kScopeHeader, kNodeScope);
  EXPECT_TRUE(asks_for_own_node(req));
}

}  // namespace
}  // namespace servertrack::query
