// The PromQL subset on its own: what the parser accepts and the sentence it
// refuses the rest with, the time and duration parameters, and evaluation on a
// real segment (the windows a time maps onto, aggregations, topk, operators,
// the caps) down to the JSON Prometheus clients read.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "query/prometheus_json.h"
#include "query/prometheus_params.h"
#include "query/prometheus_values.h"
#include "query/promql_eval.h"
#include "query/promql_parser.h"
#include "tests/shm/support.h"

namespace servertrack::query {
namespace {

constexpr std::int64_t kNow = 1795894567;           // 7 s into a minute
constexpr std::int64_t kMinute = kNow / 60 * 60;    // the current minute's start

std::string parse_error(const std::string& query) {
  auto parsed = promql::parse(query);
  if (const auto* error = std::get_if<std::string>(&parsed)) return *error;
  return "accepted";
}

std::string repeated(std::string_view part, int times) {
  std::string text;
  for (int i = 0; i < times; ++i) text += part;
  return text;
}

TEST(PromqlParser, BoundsTheTreeHeightNotOnlyTheParentheses) {
  EXPECT_EQ(parse_error("1" + repeated("+1", promql::kMaxHeight - 1)), "accepted");
  EXPECT_EQ(parse_error("1" + repeated(" * 2", promql::kMaxHeight - 1)), "accepted");
}

TEST(PromqlParser, AcceptsTheDocumentedSubset) {
  for (const char* query : {
           "1+1", "1 + 1", "-1", "2 * (3 - 1) / 4", "Inf", "nan", "1e3", ".5",
           "servertrack_cpu_percent",
           "servertrack_cpu_percent{}",
           "servertrack_cpu_percent{server=\"web-01\"}",
           "servertrack_cpu_percent{server!=\"web-01\", server=~'web-.*',}",
           "servertrack_cpu_percent{server!~`db\\..*`}",
           "{__name__=~\"servertrack_.*\"}",
           "{server=\"a\"}",
           "servertrack_cpu_percent{server=~\"(web\\\\-01|db\\\\.prod)\"}",
           "avg(servertrack_cpu_percent)", "sum by (server) (servertrack_ram_percent)",
           "max(servertrack_cpu_percent) without (server)", "MIN(servertrack_cpu_percent)",
           "count by () (servertrack_ram_samples)", "topk(3, servertrack_cpu_percent)",
           "bottomk by (server) (1, servertrack_cpu_percent)", "servertrack_cpu_percent > 90",
           "90 < servertrack_cpu_percent", "servertrack_cpu_percent >= bool 50", "1 == bool 1",
           "count(servertrack_cpu_percent > 90)", "servertrack_cpu_percent / 100",
           "-servertrack_cpu_percent", "topk(1 + 1, avg by (server) (servertrack_cpu_percent))",
           "# a comment\nservertrack_cpu_percent",
       }) {
    EXPECT_EQ(parse_error(query), "accepted") << query;
  }
}

TEST(PromqlParser, RefusesTheRestNamingWhatIsNotSupported) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "1:1: parse error: no expression found in input"},
      {"rate(servertrack_cpu_percent[5m])", "1:1: parse error: the function rate() is not supported"},
      {"servertrack_cpu_percent[5m]", "1:24: parse error: range selectors and subqueries ([5m]) are not supported"},
      {"servertrack_cpu_percent offset 5m", "the offset modifier is not supported"},
      {"servertrack_cpu_percent @ 100", "the @ modifier is not supported"},
      {"servertrack_cpu_percent and servertrack_ram_percent", "the and operator is not supported"},
      {"servertrack_cpu_percent / servertrack_ram_percent", "between two vectors are not supported"},
      {"servertrack_cpu_percent % 2", "the % operator is not supported"},
      {"servertrack_cpu_percent ^ 2", "the ^ operator is not supported"},
      {"stddev(servertrack_cpu_percent)", "the aggregation stddev is not supported"},
      {"quantile(0.9, servertrack_cpu_percent)", "the aggregation quantile is not supported"},
      {"sum(1)", "expected type instant vector in aggregation expression, got scalar"},
      {"topk(servertrack_cpu_percent, servertrack_cpu_percent)", "expected type scalar in aggregation parameter"},
      {"1 > 2", "comparisons between scalars must use BOOL modifier"},
      {"servertrack_cpu_percent + bool 1", "bool modifier can only be used on comparison operators"},
      {"{}", "vector selector must contain at least one non-empty matcher"},
      {"{server=~\".*\"}", "vector selector must contain at least one non-empty matcher"},
      {"x{__name__=\"y\"}", "metric name must not be set twice"},
      {"x{server=~\"(\"}", "invalid regular expression \"(\""},
      {"x{server=\"a}", "unterminated quoted string"},
      {"x{server=\"\\q\"}", "unsupported escape sequence \\q"},
      {"x{server}", "expected a label matching operator"},
      {"(1", "unexpected end of input; expected \")\""},
      {"1 1", "1:3: parse error: unexpected character: '1'"},
      {"\"text\"", "string literals are not supported"},
      {"x\n  y", "2:3: parse error: unexpected identifier \"y\""},
      {"sum(x) by (server) by (server)", "unexpected identifier \"by\""},
      {"12abc", "bad number or duration syntax"},
      {"x * on(server) y", "vector matching (on) is not supported"},
      {std::string(200, '(') + "1" + std::string(200, ')'), "nests deeper than 64 levels"},
      {"1" + repeated("+1", promql::kMaxHeight), "deeper than 256 operators"},
      {"-sum(x)" + repeated(" * 2", promql::kMaxHeight - 1), "deeper than 256 operators"},
      {std::string(promql::kMaxQueryBytes + 1, ' ') + "1", "longer than 16 KiB"},
  };
  for (const auto& [query, expected] : cases) {
    EXPECT_NE(parse_error(query).find(expected), std::string::npos) << query << " -> " << parse_error(query);
  }
}

TEST(PrometheusParams, TimesAndDurationsAsPrometheusReadsThem) {
  EXPECT_EQ(parse_time_ms("1700000000"), 1700000000000);
  EXPECT_EQ(parse_time_ms("1700000000.123"), 1700000000123);
  EXPECT_EQ(parse_time_ms("4"), 4000);
  EXPECT_EQ(parse_time_ms("2023-11-14T22:13:20Z"), 1700000000000);
  EXPECT_EQ(parse_time_ms("2023-11-14T22:13:20.5Z"), 1700000000500);
  EXPECT_EQ(parse_time_ms("2023-11-14T23:13:20+01:00"), 1700000000000);
  for (const char* bad : {"", "now", "1e400", "NaN", "+1", "2023-11-14", "2023-11-14T22:13:20", "12s"}) {
    EXPECT_FALSE(parse_time_ms(bad)) << bad;
  }
  EXPECT_EQ(parse_duration_ms("60"), 60000);
  EXPECT_EQ(parse_duration_ms("0.5"), 500);
  EXPECT_EQ(parse_duration_ms("1m"), 60000);
  EXPECT_EQ(parse_duration_ms("1h30m"), 5400000);
  EXPECT_EQ(parse_duration_ms("250ms"), 250);
  for (const char* bad : {"", "m", "1x", "1.5m", "-1m", "1 m"}) EXPECT_FALSE(parse_duration_ms(bad)) << bad;
}

void record(shm::Segment& segment, const std::string& name, double cpu, double ram, std::int64_t at) {
  ASSERT_EQ(segment.record(name, shm::stated_sample(cpu, ram, at * 1000), kNow), shm::Status::ok) << name;
}

// The query evaluated at `times`, rendered as a range query's JSON (an
// instant query's when count is 1), or the error's type and sentence.
std::string run(shm::Segment& segment, const std::string& query, promql::Times times,
                std::string_view name_prefix = "") {
  auto parsed = promql::parse(query);
  if (auto* error = std::get_if<std::string>(&parsed)) return "parse: " + *error;
  const auto value = promql::evaluate(*std::get<promql::ExprPtr>(parsed), segment, times, kNow, name_prefix);
  if (const auto* error = std::get_if<promql::QueryError>(&value)) {
    return std::string(error->type) + " " + std::to_string(error->status) + ": " + error->message;
  }
  fmt::memory_buffer json;
  if (times.count == 1) {
    append_instant_json(std::get<promql::Value>(value), times.start_ms, json);
  } else {
    append_range_json(std::get<promql::Value>(value), times, json);
  }
  return fmt::to_string(json);
}

promql::Times at(std::int64_t unix_seconds) { return {unix_seconds * 1000, 1, 1}; }
promql::Times range(std::int64_t start, std::int64_t step, std::size_t count) {
  return {start * 1000, step * 1000, count};
}

TEST(PromqlEval, InstantValuesAreTheBucketHoldingTheTime) {
  shm::test::TestSegment segment(64);
  record(*segment, "web-01", 10, 40, kMinute - 120);
  record(*segment, "web-01", 20, 60, kMinute - 90);
  record(*segment, "db.prod", 80, 10, kMinute - 100);
  const std::string at_minute = run(*segment, "servertrack_cpu_percent", at(kMinute - 61));
  EXPECT_EQ(at_minute,
            R"({"status":"success","data":{"resultType":"vector","result":[)"
            R"({"metric":{"__name__":"servertrack_cpu_percent","server":"db.prod"},"value":[1795894499,"80"]},)"
            R"({"metric":{"__name__":"servertrack_cpu_percent","server":"web-01"},"value":[1795894499,"15"]}]}})");
  EXPECT_NE(run(*segment, "servertrack_cpu_samples{server=\"web-01\"}", at(kMinute - 120)).find(R"("value":[1795894440,"2"])"),
            std::string::npos);
  // A minute without samples has no value, not 0.
  EXPECT_EQ(run(*segment, "servertrack_cpu_percent", at(kMinute - 1)),
            R"({"status":"success","data":{"resultType":"vector","result":[]}})");
  EXPECT_EQ(run(*segment, "1+1", at(4)), R"({"status":"success","data":{"resultType":"scalar","result":[4,"2"]}})");
  EXPECT_EQ(run(*segment, "0.5 * 3", {1500, 1, 1}),
            R"({"status":"success","data":{"resultType":"scalar","result":[1.5,"1.5"]}})");
}

TEST(PromqlEval, RangesUseMinutesForTheLastHourHoursForTheDayAndNothingBeyond) {
  shm::test::TestSegment segment(16);
  const std::int64_t hour = kNow / 3600 * 3600;
  record(*segment, "web", 30, 1, hour - 3 * 3600 + 10);   // three hours ago: an hour bucket
  record(*segment, "web", 50, 1, hour - 3 * 3600 + 1800);
  record(*segment, "web", 70, 1, kMinute - 300);           // five minutes ago: a minute bucket
  // A step smaller than the bucket repeats the bucket's mean.
  EXPECT_NE(run(*segment, "servertrack_cpu_percent", range(kMinute - 300, 20, 3))
                .find(R"("values":[[1795894260,"70"],[1795894280,"70"],[1795894300,"70"]])"),
            std::string::npos);
  // One larger picks the bucket at each step: the hour's mean beyond the last 60 minutes.
  const std::string hourly = run(*segment, "servertrack_cpu_percent", range(hour - 4 * 3600, 3600, 5));
  EXPECT_NE(hourly.find(R"("values":[[1795881600,"40"]])"), std::string::npos) << hourly;
  // Nothing older than the 24 hours, and nothing after the current minute.
  EXPECT_EQ(run(*segment, "servertrack_cpu_percent", range(hour - 30 * 3600, 3600, 6)),
            R"({"status":"success","data":{"resultType":"matrix","result":[]}})");
  EXPECT_EQ(run(*segment, "servertrack_cpu_percent", range(kMinute + 60, 60, 3)),
            R"({"status":"success","data":{"resultType":"matrix","result":[]}})");
}

// Beyond the 24 hours, the day window (as long as the segment keeps days)
// answers; checked on a snapshot made by hand, whatever the layout holds.
TEST(PrometheusValues, BeyondTheDayTheDayBucketsAnswerAsFarAsTheWindowGoes) {
  shm::Snapshot snapshot;
  snapshot.last_60_minutes.start = kMinute - 59 * 60;
  snapshot.last_60_minutes.step = 60;
  snapshot.last_24_hours.start = (kNow / 3600 - 23) * 3600;
  snapshot.last_24_hours.step = 3600;
  snapshot.last_days.start = (kNow / 86400 - 29) * 86400;
  snapshot.last_days.step = 86400;
  snapshot.last_days.length = 30;
  snapshot.last_days.buckets[27].cpu = {5, 42.5, 90};  // two days before today
  snapshot.last_days.buckets[27].ram = {4, 10, 20};
  snapshot.last_24_hours.buckets[0].cpu = {1, 7, 7};
  const std::int64_t two_days_ago = (kNow / 86400 - 2) * 86400 + 3600;
  EXPECT_EQ(value_at(snapshot, Metric::cpu, two_days_ago), 42.5);
  EXPECT_EQ(value_at(snapshot, Metric::ram_samples, two_days_ago), 4);
  EXPECT_EQ(value_at(snapshot, Metric::cpu_samples, two_days_ago), 5);
  EXPECT_EQ(value_at(snapshot, Metric::cpu, snapshot.last_24_hours.start), 7);  // the hour wins inside 24 h
  EXPECT_EQ(value_at(snapshot, Metric::ram, snapshot.last_24_hours.start), std::nullopt);
  snapshot.last_days.start = (kNow / 86400 - 1) * 86400;  // a segment keeping two days:
  snapshot.last_days.length = 2;                           // the day before yesterday is gone
  EXPECT_EQ(value_at(snapshot, Metric::cpu, two_days_ago), std::nullopt);
}

TEST(PromqlEval, AggregationsTopkAndOperatorsApplyTimeByTime) {
  shm::test::TestSegment segment(64);
  const std::int64_t t = kMinute - 120;
  record(*segment, "web-01", 10, 40, t);
  record(*segment, "web-02", 30, 50, t);
  record(*segment, "web-03", 95, 60, t);
  record(*segment, "web-03", 50, 60, t + 60);
  const auto value_of = [&](const std::string& query) { return run(*segment, query, at(t)); };
  EXPECT_NE(value_of("avg(servertrack_cpu_percent)").find(R"({"metric":{},"value":[1795894440,"45"]})"),
            std::string::npos);
  EXPECT_NE(value_of("sum(servertrack_cpu_percent)").find(R"("135")"), std::string::npos);
  EXPECT_NE(value_of("min(servertrack_cpu_percent)").find(R"("10")"), std::string::npos);
  EXPECT_NE(value_of("max(servertrack_cpu_percent)").find(R"("95")"), std::string::npos);
  EXPECT_NE(value_of("count(servertrack_cpu_percent > 20)").find(R"("2")"), std::string::npos);
  EXPECT_NE(value_of("max by (server) (servertrack_cpu_percent)").find(R"({"metric":{"server":"web-02"})"),
            std::string::npos);
  EXPECT_NE(value_of("count without (server) ({server=~\"web-0[12]\"})").find(R"({"metric":{},"value":[1795894440,"8"]})"),
            std::string::npos);
  const std::string top = value_of("topk(2, servertrack_cpu_percent)");
  EXPECT_NE(top.find(R"("server":"web-02"},"value":[1795894440,"30"])"), std::string::npos) << top;
  EXPECT_NE(top.find(R"("server":"web-03"},"value":[1795894440,"95"])"), std::string::npos) << top;
  EXPECT_EQ(top.find("web-01"), std::string::npos) << top;
  EXPECT_NE(value_of("bottomk(1, servertrack_cpu_percent)").find("web-01"), std::string::npos);
  // topk over a range: each step picks its own.
  const std::string top_range = run(*segment, "topk(1, servertrack_cpu_percent)", range(t, 60, 2));
  EXPECT_NE(top_range.find(R"("server":"web-03"},"values":[[1795894440,"95"],[1795894500,"50"]])"),
            std::string::npos) << top_range;
  // A comparison filters and keeps the name; bool and arithmetic drop it.
  EXPECT_NE(value_of("servertrack_cpu_percent > 50").find(R"({"__name__":"servertrack_cpu_percent","server":"web-03"})"),
            std::string::npos);
  EXPECT_EQ(value_of("servertrack_cpu_percent > 50").find("web-02"), std::string::npos);
  EXPECT_NE(value_of("servertrack_cpu_percent{server=\"web-02\"} > bool 50").find(R"({"metric":{"server":"web-02"},"value":[1795894440,"0"]})"),
            std::string::npos);
  EXPECT_NE(value_of("servertrack_cpu_percent{server=\"web-01\"} / 4").find(R"("2.5")"), std::string::npos);
  EXPECT_NE(value_of("100 - servertrack_cpu_percent{server=\"web-01\"}").find(R"("90")"), std::string::npos);
  EXPECT_NE(value_of("{server=\"web-01\"} * 2").find("execution 422: vector cannot contain metrics with the same labelset"),
            std::string::npos);
}

TEST(PromqlEval, ATokensNamePrefixHidesEveryOtherServer) {
  shm::test::TestSegment segment(16);
  record(*segment, "web-01", 10, 1, kMinute - 60);
  record(*segment, "db.prod", 30, 1, kMinute - 60);
  EXPECT_NE(run(*segment, "count(servertrack_cpu_percent)", at(kMinute - 60), "web-").find(R"("value":[1795894500,"1"])"),
            std::string::npos);
  EXPECT_EQ(run(*segment, "servertrack_cpu_percent{server=\"db.prod\"}", at(kMinute - 60), "web-"),
            R"({"status":"success","data":{"resultType":"vector","result":[]}})");
  auto parsed = promql::parse("{__name__=~\".+\"}");
  const auto& selector = std::get<promql::VectorSelector>(std::get<promql::ExprPtr>(parsed)->node);
  const auto series = promql::select_series(selector, *segment, kNow, 0, "db");
  ASSERT_TRUE(std::holds_alternative<std::vector<promql::Labels>>(series));
  for (const auto& labels : std::get<std::vector<promql::Labels>>(series)) EXPECT_EQ(labels[1].second, "db.prod");
  EXPECT_EQ(std::get<std::vector<promql::Labels>>(series).size(), 4u);
}

TEST(PromqlEval, ValuesAreWrittenAsPrometheusWritesThem) {
  shm::test::TestSegment segment(16);
  EXPECT_NE(run(*segment, "1/0", at(0)).find(R"("+Inf")"), std::string::npos);
  EXPECT_NE(run(*segment, "-1/0", at(0)).find(R"("-Inf")"), std::string::npos);
  EXPECT_NE(run(*segment, "0/0", at(0)).find(R"("NaN")"), std::string::npos);
  EXPECT_NE(run(*segment, "1", {1700000000120, 1, 1}).find("[1700000000.12,"), std::string::npos);
}

TEST(PromqlEval, UnfilteredSelectorsOverALargeFleetAreCapped) {
  shm::test::TestSegment segment(promql::kMaxSelectedServers + 64);
  for (std::size_t i = 0; i <= promql::kMaxSelectedServers; ++i) {
    ASSERT_EQ(segment->record(fmt::format("s{}", i), 1, 1, kNow), shm::Status::ok);
  }
  EXPECT_NE(run(*segment, "avg(servertrack_cpu_percent)", at(kNow))
                .find("bad_data 400: the selector matches more than 10000 servers; narrow it"),
            std::string::npos);
  EXPECT_NE(run(*segment, "servertrack_cpu_percent{server=~\"s1.*\"}", at(kNow)).find("\"success\""),
            std::string::npos);
  EXPECT_NE(run(*segment, "{server=~\"s[0-9]{1,3}\"}", range(kNow - 3600, 1, 3601))
                .find("bad_data 400: the query would load more than 5000000 points"),
            std::string::npos);
}

}  // namespace
}  // namespace servertrack::query
