// GET /fleet's listing on a real segment: order, paging with the cursor,
// filters, the latest minute's means, and the 400 sentences.
#include <gtest/gtest.h>
#include <httplib.h>
#include <simdjson.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "query/fleet.h"
#include "shm/name.h"
#include "tests/shm/support.h"

namespace servertrack::query {
namespace {

constexpr std::int64_t kNow = 1795894567;  // 7 s into a minute

httplib::Request request(std::vector<std::pair<std::string, std::string>> params) {
  httplib::Request req;
  for (auto& [key, value] : params) req.params.emplace(key, value);
  return req;
}

struct Page {
  std::vector<std::string> names;
  std::vector<std::string> cpus;  // as printed: "null" or the number
  std::int64_t total = -1;
  std::string next_cursor;  // "" when null
  std::string json;
};

// Renders and parses one page; fails the test when the query or cursor is refused.
Page fleet(shm::Segment& segment, std::vector<std::pair<std::string, std::string>> params,
           std::int64_t now = kNow) {
  const auto query = parse_fleet_query(request(std::move(params)));
  EXPECT_TRUE(std::holds_alternative<FleetQuery>(query)) << std::get<std::string>(query);
  fmt::memory_buffer out;
  const auto error = append_fleet_json(segment, std::get<FleetQuery>(query), now, out);
  EXPECT_FALSE(error) << *error;
  Page page;
  page.json = fmt::to_string(out);
  simdjson::dom::parser parser;
  const simdjson::dom::element root = parser.parse(page.json);
  page.total = root["total"].get_int64();
  for (simdjson::dom::element row : root["servers"].get_array()) {
    page.names.emplace_back(std::string_view(row["name"].get_string()));
    page.cpus.push_back(simdjson::minify(row["cpu"]));
  }
  if (!root["next_cursor"].is_null()) page.next_cursor = std::string_view(root["next_cursor"].get_string());
  return page;
}

std::string refusal(shm::Segment& segment, std::vector<std::pair<std::string, std::string>> params) {
  const auto query = parse_fleet_query(request(std::move(params)));
  if (const auto* error = std::get_if<std::string>(&query)) return *error;
  fmt::memory_buffer out;
  const auto error = append_fleet_json(segment, std::get<FleetQuery>(query), kNow, out);
  EXPECT_EQ(out.size(), 0u);
  return error.value_or("accepted");
}

void record(shm::Segment& segment, const std::string& name, double cpu, double ram, std::int64_t at) {
  ASSERT_EQ(segment.record(name, cpu, ram, at), shm::Status::ok) << name;
}

TEST(Fleet, HottestFirstByDefaultAndServersWithoutARecentMinuteLast) {
  shm::test::TestSegment segment(64);
  record(*segment, "warm", 50, 10, kNow - 5);
  record(*segment, "hot", 95, 20, kNow - 70);  // newest minute with samples is the one before
  record(*segment, "gone", 99, 30, kNow - 2 * 3600);
  record(*segment, "cool", 5, 90, kNow);
  const Page page = fleet(*segment, {});
  EXPECT_EQ(page.names, (std::vector<std::string>{"hot", "warm", "cool", "gone"}));
  EXPECT_EQ(page.cpus, (std::vector<std::string>{"95", "50", "5", "null"}));
  EXPECT_EQ(page.total, 4);
  EXPECT_EQ(page.next_cursor, "");
  EXPECT_EQ(fleet(*segment, {{"sort", "ram"}}).names,
            (std::vector<std::string>{"cool", "hot", "warm", "gone"}));
  EXPECT_EQ(fleet(*segment, {{"sort", "cpu"}, {"order", "asc"}}).names,
            (std::vector<std::string>{"cool", "warm", "hot", "gone"}));
  EXPECT_EQ(fleet(*segment, {{"sort", "name"}}).names,
            (std::vector<std::string>{"cool", "gone", "hot", "warm"}));
  EXPECT_EQ(fleet(*segment, {{"sort", "name"}, {"order", "desc"}}).names,
            (std::vector<std::string>{"warm", "hot", "gone", "cool"}));
  EXPECT_EQ(fleet(*segment, {{"sort", "last_sample"}}).names,
            (std::vector<std::string>{"cool", "warm", "hot", "gone"}));
}

TEST(Fleet, CurrentIsTheMeanOfTheLatestMinuteWithSamples) {
  shm::test::TestSegment segment(16);
  record(*segment, "web_1", 10, 1, kNow - 180);
  record(*segment, "web_1", 30, 3, kNow - 1);
  record(*segment, "web_1", 50, 5, kNow);
  const Page page = fleet(*segment, {});
  EXPECT_EQ(page.cpus, std::vector<std::string>{"40"});
  EXPECT_NE(page.json.find(R"("ram":4,)"), std::string::npos) << page.json;
  EXPECT_NE(page.json.find(R"(,10,null,null,40],"ram":[)"), std::string::npos) << page.json;
  // A clock set back 2 minutes: the newest sample is in its future, so the
  // latest minute it can show is the one 3 minutes before the sample.
  EXPECT_EQ(fleet(*segment, {}, kNow - 120).cpus, std::vector<std::string>{"10"});
}

TEST(Fleet, PeaksAreTheLargestSamplesOfTheNewestSamplesHour) {
  shm::test::TestSegment segment(16, 30);
  const std::int64_t hour = kNow / 3600 * 3600;
  record(*segment, "spiky", 100, 20, hour + 60);  // a spike early in this hour, calm since
  record(*segment, "spiky", 10, 30, kNow - 5);
  record(*segment, "steady", 50, 50, kNow - 5);
  record(*segment, "earlier", 99, 1, kNow - 3 * 3600);  // its newest hour is 3 hours ago
  shm::SampleValue ram_only{.ram = 60, .time = kNow - 5, .has_cpu = false};
  ASSERT_EQ(segment->record("ram_only", ram_only, kNow), shm::Status::ok);
  EXPECT_EQ(fleet(*segment, {}).names, (std::vector<std::string>{"steady", "spiky", "earlier", "ram_only"}));
  const Page peaks = fleet(*segment, {{"sort", "cpu_peak"}});
  EXPECT_EQ(peaks.names, (std::vector<std::string>{"spiky", "earlier", "steady", "ram_only"}));
  EXPECT_EQ(peaks.cpus, (std::vector<std::string>{"10", "null", "50", "null"}));
  EXPECT_NE(peaks.json.find(R"({"name":"spiky","last_sample":)" + std::to_string(kNow - 5) +
                            R"(,"cpu":10,"ram":30,"latest_minute":)" + std::to_string((kNow - 5) / 60 * 60) +
                            R"(,"cpu_peak":100,"ram_peak":30,)"),
            std::string::npos)
      << peaks.json;
  EXPECT_NE(peaks.json.find(R"("cpu":null,"ram":60,"latest_minute":)" + std::to_string((kNow - 5) / 60 * 60) +
                            R"(,"cpu_peak":null,"ram_peak":60,)"),
            std::string::npos)
      << peaks.json;
  EXPECT_EQ(fleet(*segment, {{"sort", "ram_peak"}, {"order", "asc"}}).names,
            (std::vector<std::string>{"earlier", "spiky", "steady", "ram_only"}));
  // 25 hours later every newest hour has left the 24-hour window: no peaks
  // (the servers are still listed: their days are in the day window).
  const Page later = fleet(*segment, {{"sort", "cpu_peak"}}, kNow + 25 * 3600);
  EXPECT_EQ(later.names.size(), 4u) << later.json;
  std::size_t without_peaks = 0;
  for (auto at = later.json.find(R"("cpu_peak":null,"ram_peak":null)"); at != std::string::npos;
       at = later.json.find(R"("cpu_peak":null,"ram_peak":null)", at + 1)) {
    ++without_peaks;
  }
  EXPECT_EQ(without_peaks, later.names.size()) << later.json;
}

TEST(Fleet, CursorPagesEveryServerOnceEvenWhenValuesTie) {
  shm::test::TestSegment segment(256);
  std::vector<std::string> expected;
  for (int i = 0; i < 57; ++i) {
    const std::string name = fmt::format("srv{:02}", i);
    record(*segment, name, i % 4 == 0 ? 80.0 : 20.0 + i % 3, 1, kNow - i);
  }
  for (const auto& sort : {"cpu", "ram", "cpu_peak", "ram_peak", "name", "last_sample"}) {
    for (const auto& order : {"asc", "desc"}) {
      std::vector<std::string> seen;
      std::string cursor;
      int pages = 0;
      do {
        std::vector<std::pair<std::string, std::string>> params{
            {"sort", sort}, {"order", order}, {"limit", "10"}};
        if (!cursor.empty()) params.emplace_back("cursor", cursor);
        const Page page = fleet(*segment, params);
        EXPECT_EQ(page.total, 57);
        seen.insert(seen.end(), page.names.begin(), page.names.end());
        cursor = page.next_cursor;
        ++pages;
      } while (!cursor.empty() && pages < 10);
      EXPECT_EQ(pages, 6) << sort << " " << order;
      EXPECT_EQ(seen.size(), 57u) << sort << " " << order;
      EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 57u) << sort << " " << order;
      const Page all = fleet(*segment, {{"sort", sort}, {"order", order}, {"limit", "1000"}});
      EXPECT_EQ(seen, all.names) << sort << " " << order;
    }
  }
  // Ties are broken by name, ascending, in both orders.
  const Page hottest = fleet(*segment, {{"limit", "3"}});
  EXPECT_EQ(hottest.names, (std::vector<std::string>{"srv00", "srv04", "srv08"}));
}

TEST(Fleet, PrefixAndStaleFilterAndTotalCountsTheMatches) {
  shm::test::TestSegment segment(64);
  record(*segment, "web_1", 10, 1, kNow - 10);
  record(*segment, "web_2", 20, 1, kNow - 400);
  record(*segment, "web_3", 30, 1, kNow - 300);
  record(*segment, "db_1", 90, 1, kNow - 1000);
  const Page web = fleet(*segment, {{"prefix", "web"}, {"limit", "1"}});
  EXPECT_EQ(web.names, std::vector<std::string>{"web_3"});
  EXPECT_EQ(web.total, 3);
  EXPECT_FALSE(web.next_cursor.empty());
  const Page silent = fleet(*segment, {{"stale", "300"}});
  EXPECT_EQ(silent.names, (std::vector<std::string>{"db_1", "web_3", "web_2"}));
  EXPECT_EQ(silent.total, 3);
  EXPECT_EQ(fleet(*segment, {{"stale", "300"}, {"prefix", "web"}}).total, 2);
  EXPECT_EQ(fleet(*segment, {{"prefix", "nothing"}}).json,
            fmt::format(R"({{"now":{},"sort":"cpu","order":"desc","total":0,"servers":[],"next_cursor":null}})",
                        kNow));
}

TEST(Fleet, BadParametersAndCursorsAreRefusedWithASentence) {
  shm::test::TestSegment segment(16);
  record(*segment, "web_1", 10, 1, kNow);
  record(*segment, "web_2", 10, 1, kNow);
  EXPECT_EQ(refusal(*segment, {{"sort", "disk"}}), "sort must be cpu, ram, cpu_peak, ram_peak, name or last_sample");
  EXPECT_EQ(refusal(*segment, {{"order", "up"}}), "order must be asc or desc");
  EXPECT_EQ(refusal(*segment, {{"limit", "0"}}), "limit must be a whole number from 1 to 1000");
  EXPECT_EQ(refusal(*segment, {{"limit", "1001"}}), "limit must be a whole number from 1 to 1000");
  EXPECT_EQ(refusal(*segment, {{"stale", "-5"}}).substr(0, 34), "stale must be a whole number from ");
  EXPECT_EQ(refusal(*segment, {{"stale", "5m"}}).substr(0, 34), "stale must be a whole number from ");
  EXPECT_EQ(refusal(*segment, {{"prefix", "-web"}}),
            std::string("prefix must be the start of a server name: ") + shm::kNameRule);
  EXPECT_EQ(refusal(*segment, {{"sort", "cpu"}, {"sort", "ram"}}), "give the parameter sort at most once");
  EXPECT_EQ(refusal(*segment, {{"cursor", "web_1"}}),
            "cursor must be the next_cursor of a previous page, unchanged");
  EXPECT_EQ(refusal(*segment, {{"cursor", "cpu.desc.zzzzzzzzzzzzzzzz.web_1"}}),
            "cursor must be the next_cursor of a previous page, unchanged");
  const std::string cursor = fleet(*segment, {{"limit", "1"}}).next_cursor;
  ASSERT_FALSE(cursor.empty());
  EXPECT_EQ(fleet(*segment, {{"limit", "1"}, {"cursor", cursor}}).names, std::vector<std::string>{"web_2"});
  EXPECT_EQ(refusal(*segment, {{"sort", "ram"}, {"cursor", cursor}}),
            "this cursor is for another sort or order than sort=ram&order=desc; give the sort and "
            "order of the page it came from, or leave the cursor out to start again");
}

}  // namespace
}  // namespace servertrack::query
