// SampleParser: what the ingest worker accepts and refuses, without a server.
#include <gtest/gtest.h>

#include <string>

#include "http/request_body.h"
#include "ingest/sample_parser.h"

namespace servertrack::ingest {
namespace {

ParsedSample parse(const std::string& text) {
  http::RequestBody body(kParserPadding);
  EXPECT_TRUE(body.append(text.data(), text.size()));
  SampleParser parser;
  return parser.parse(body.view());
}

TEST(SampleParser, AcceptsTheContractsExample) {
  const ParsedSample parsed = parse(R"({"cpu": 12.04, "ram": 46.3})");
  ASSERT_TRUE(parsed.ok) << parsed.error;
  EXPECT_EQ(parsed.sample.cpu, 12.04);
  EXPECT_EQ(parsed.sample.ram, 46.3);
}

TEST(SampleParser, AcceptsIntegersZeroAndUnknownMembers) {
  const ParsedSample parsed = parse(R"({"x": [1, {"y": null}], "ram": 0, "cpu": 7, "z": "s"})");
  ASSERT_TRUE(parsed.ok) << parsed.error;
  EXPECT_EQ(parsed.sample.cpu, 7);
  EXPECT_EQ(parsed.sample.ram, 0);
}

TEST(SampleParser, AcceptsEitherMetricAlone) {
  const ParsedSample cpu_only = parse(R"({"cpu": 50})");
  ASSERT_TRUE(cpu_only.ok) << cpu_only.error;
  EXPECT_TRUE(cpu_only.sample.has_cpu);
  EXPECT_FALSE(cpu_only.sample.has_ram);
  EXPECT_EQ(cpu_only.sample.cpu, 50);
  const ParsedSample ram_only = parse(R"({"time": 1767225600, "ram": 70})");
  ASSERT_TRUE(ram_only.ok) << ram_only.error;
  EXPECT_FALSE(ram_only.sample.has_cpu);
  EXPECT_TRUE(ram_only.sample.has_ram);
  EXPECT_EQ(ram_only.sample.ram, 70);
  EXPECT_EQ(ram_only.sample.time_ms, 1767225600000);
  const ParsedSample both = parse(R"({"cpu": 0, "ram": 0})");
  ASSERT_TRUE(both.ok) << both.error;
  EXPECT_TRUE(both.sample.has_cpu && both.sample.has_ram);
}

TEST(SampleParser, RefusesASampleWithNeitherMetric) {
  for (const char* text : {"{}", R"({"time": 1767225600})", R"({"host": "web-01", "disk": 3})"}) {
    const ParsedSample parsed = parse(text);
    EXPECT_FALSE(parsed.ok) << text;
    EXPECT_EQ(parsed.problem, SampleProblem::invalid_value) << text;
    EXPECT_NE(parsed.error.find(R"(neither "cpu" nor "ram")"), std::string::npos) << parsed.error;
  }
  // A bad value is named before the missing metric is.
  EXPECT_NE(parse(R"({"time": -1})").error.find("not negative"), std::string::npos);
}

TEST(SampleParser, RefusesTrailingGarbage) {
  for (const char* text : {R"({"cpu":1,"ram":2}})", R"({"cpu":1,"ram":2} {})", R"({"cpu":1,"ram":2}x)"}) {
    EXPECT_FALSE(parse(text).ok) << text;
  }
}

TEST(SampleParser, NamesTheProblemInTheError) {
  EXPECT_NE(parse(R"({"ram": null})").error.find("\"ram\" must be a number, not null"), std::string::npos);
  EXPECT_NE(parse(R"({"cpu": 1, "ram": 2, "cpu": 1})").error.find("more than once"),
            std::string::npos);
  EXPECT_NE(parse(R"({"cpu": "1", "ram": 2})").error.find("not a string"), std::string::npos);
  EXPECT_NE(parse(R"({"cpu": 1, "ram": -2})").error.find("not negative"), std::string::npos);
  EXPECT_NE(parse("[]").error.find("an array, not a JSON object"), std::string::npos);
  EXPECT_NE(parse("").error.find("not valid JSON"), std::string::npos);
}

TEST(SampleParser, BoundsValuesSoThatNoSumOverflows) {
  const ParsedSample largest = parse(R"({"cpu": 1e15, "ram": 1e15})");
  EXPECT_TRUE(largest.ok) << largest.error;
  for (const char* text : {R"({"cpu": 1e308, "ram": 1})", R"({"cpu": 1, "ram": 1.0000001e15})"}) {
    const ParsedSample parsed = parse(text);
    EXPECT_FALSE(parsed.ok) << text;
    EXPECT_EQ(parsed.problem, SampleProblem::invalid_value) << text;
    EXPECT_NE(parsed.error.find("must be at most 1e15"), std::string::npos) << parsed.error;
  }
}

TEST(SampleParser, ReusesOneParserAcrossBodies) {
  SampleParser parser;
  http::RequestBody body(kParserPadding);
  for (int i = 0; i < 3; ++i) {
    const std::string good = R"({"cpu": )" + std::to_string(i) + R"(, "ram": 1})";
    body.clear();
    ASSERT_TRUE(body.append(good.data(), good.size()));
    const ParsedSample parsed = parser.parse(body.view());
    ASSERT_TRUE(parsed.ok);
    EXPECT_EQ(parsed.sample.cpu, i);
    body.clear();
    ASSERT_TRUE(body.append("{", 1));
    EXPECT_FALSE(parser.parse(body.view()).ok);
  }
}

}  // namespace
}  // namespace servertrack::ingest
