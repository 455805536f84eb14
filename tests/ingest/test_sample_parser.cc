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

TEST(SampleParser, RefusesTrailingGarbage) {
  for (const char* text : {R"({"cpu":1,"ram":2}})", R"({"cpu":1,"ram":2} {})", R"({"cpu":1,"ram":2}x)"}) {
    EXPECT_FALSE(parse(text).ok) << text;
  }
}

TEST(SampleParser, NamesTheProblemInTheError) {
  EXPECT_NE(parse(R"({"cpu": 1})").error.find("\"ram\" is missing"), std::string::npos);
  EXPECT_NE(parse(R"({"cpu": 1, "ram": 2, "cpu": 1})").error.find("more than once"),
            std::string::npos);
  EXPECT_NE(parse(R"({"cpu": "1", "ram": 2})").error.find("not a string"), std::string::npos);
  EXPECT_NE(parse(R"({"cpu": 1, "ram": -2})").error.find("not negative"), std::string::npos);
  EXPECT_NE(parse("[]").error.find("an array, not a JSON object"), std::string::npos);
  EXPECT_NE(parse("").error.find("not valid JSON"), std::string::npos);
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
