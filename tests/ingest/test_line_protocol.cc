// The line protocol reader (ingest/line_protocol.h) on its own: every part of
// the syntax, the errors per line, precisions.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ingest/line_protocol.h"

namespace servertrack::ingest {
namespace {

struct Read {
  std::vector<Line> lines;
  std::vector<LineError> errors;
};

Read read_all(std::string_view body) {
  Read read;
  LineReader reader(body);
  Line line;
  LineError error;
  for (;;) {
    const LineReader::Next next = reader.next(line, error);
    if (next == LineReader::Next::end) return read;
    if (next == LineReader::Next::line) read.lines.push_back(line);
    if (next == LineReader::Next::error) read.errors.push_back(error);
  }
}

std::vector<LineField> fields_of(const Line& line) {
  std::vector<LineField> fields;
  FieldCursor cursor(line.fields);
  LineField field;
  while (cursor.next(field)) {
    read_number(field);
    fields.push_back(field);
  }
  return fields;
}

std::vector<LineTag> tags_of(const Line& line) {
  std::vector<LineTag> tags;
  TagCursor cursor(line.tags);
  LineTag tag;
  while (cursor.next(tag)) tags.push_back(tag);
  return tags;
}

TEST(LineProtocol, ReadsTelegrafsCpuLine) {
  const Read read = read_all(
      "cpu,cpu=cpu-total,host=loaner usage_idle=82.3834196941197,usage_user=11.398963731636465 "
      "1568760922000000000\n");
  ASSERT_EQ(read.errors.size(), 0u);
  ASSERT_EQ(read.lines.size(), 1u);
  const Line& line = read.lines[0];
  EXPECT_EQ(line.number, 1u);
  EXPECT_EQ(line.measurement, "cpu");
  const auto tags = tags_of(line);
  ASSERT_EQ(tags.size(), 2u);
  EXPECT_EQ(tags[0].key, "cpu");
  EXPECT_EQ(tags[0].value, "cpu-total");
  EXPECT_EQ(tags[1].key, "host");
  EXPECT_EQ(tags[1].value, "loaner");
  const auto fields = fields_of(line);
  ASSERT_EQ(fields.size(), 2u);
  EXPECT_EQ(fields[0].key, "usage_idle");
  EXPECT_EQ(fields[0].type, FieldType::float_number);
  EXPECT_EQ(fields[0].number, 82.3834196941197);
  ASSERT_TRUE(line.timestamp.has_value());
  EXPECT_EQ(*line.timestamp, 1568760922000000000);
}

TEST(LineProtocol, ReadsEveryFieldType) {
  const Read read = read_all(
      "m a=1.5,b=-12i,c=18446744073709551615u,d=t,e=FALSE,f=\"x \\\"y\\\" \\\\ z\",g=1e3,h=.5,i=-0\n");
  ASSERT_EQ(read.errors.size(), 0u) << read.errors[0].reason;
  const auto fields = fields_of(read.lines.at(0));
  ASSERT_EQ(fields.size(), 9u);
  EXPECT_EQ(fields[0].number, 1.5);
  EXPECT_EQ(fields[1].type, FieldType::integer);
  EXPECT_EQ(fields[1].integer, -12);
  EXPECT_EQ(fields[2].type, FieldType::unsigned_integer);
  EXPECT_EQ(fields[2].unsigned_value, 18446744073709551615u);
  EXPECT_EQ(fields[3].type, FieldType::boolean);
  EXPECT_TRUE(fields[3].boolean);
  EXPECT_FALSE(fields[4].boolean);
  EXPECT_EQ(fields[5].type, FieldType::string);
  std::string text;
  unescape(fields[5].value, Escaped::string_value, text);
  EXPECT_EQ(text, "x \"y\" \\ z");
  EXPECT_EQ(fields[6].number, 1000);
  EXPECT_EQ(fields[7].number, 0.5);
  EXPECT_FALSE(read.lines[0].timestamp.has_value());
}

TEST(LineProtocol, ResolvesEscapesInNamesTagsAndKeys) {
  const Read read = read_all("my\\ measure\\,ment,ta\\=g=va\\ l\\,ue fi\\ eld=1 -5\n");
  ASSERT_EQ(read.errors.size(), 0u) << read.errors[0].reason;
  const Line& line = read.lines.at(0);
  std::string text;
  unescape(line.measurement, Escaped::measurement, text);
  EXPECT_EQ(text, "my measure,ment");
  const auto tags = tags_of(line);
  ASSERT_EQ(tags.size(), 1u);
  unescape(tags[0].key, Escaped::key_or_tag_value, text);
  EXPECT_EQ(text, "ta=g");
  unescape(tags[0].value, Escaped::key_or_tag_value, text);
  EXPECT_EQ(text, "va l,ue");
  unescape(fields_of(line).at(0).key, Escaped::key_or_tag_value, text);
  EXPECT_EQ(text, "fi eld");
  EXPECT_EQ(*line.timestamp, -5);
  // A backslash before another character stands for itself.
  unescape("a\\b", Escaped::measurement, text);
  EXPECT_EQ(text, "a\\b");
}

TEST(LineProtocol, SkipsCommentsBlankLinesAndReadsCrlf) {
  const Read read = read_all("# a comment\r\n\r\n  \t\ncpu v=1 10\r\nmem v=2\r\n   # indented comment\nx v=3   ");
  ASSERT_EQ(read.errors.size(), 0u) << read.errors[0].reason;
  ASSERT_EQ(read.lines.size(), 3u);
  EXPECT_EQ(read.lines[0].number, 4u);
  EXPECT_EQ(read.lines[0].text, "cpu v=1 10");
  EXPECT_EQ(*read.lines[0].timestamp, 10);
  EXPECT_EQ(read.lines[1].number, 5u);
  EXPECT_EQ(read.lines[1].text, "mem v=2");
  EXPECT_EQ(read.lines[2].number, 7u);
  EXPECT_EQ(read.lines[2].text, "x v=3");
}

TEST(LineProtocol, StringFieldsMaySpanLinesAndHoldSeparators) {
  const Read read = read_all("log msg=\"a, b=c\nd e\",n=1i 7\nnext v=1\n");
  ASSERT_EQ(read.errors.size(), 0u) << read.errors[0].reason;
  ASSERT_EQ(read.lines.size(), 2u);
  const auto fields = fields_of(read.lines[0]);
  ASSERT_EQ(fields.size(), 2u);
  EXPECT_EQ(fields[0].value, "a, b=c\nd e");
  EXPECT_EQ(fields[1].integer, 1);
  EXPECT_EQ(*read.lines[0].timestamp, 7);
  EXPECT_EQ(read.lines[1].number, 3u);
}

TEST(LineProtocol, RefusesEachBadLineAndGoesOn) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"cpu", "missing fields"},
      {"cpu,host=a", "missing fields"},
      {",host=a v=1", "missing measurement"},
      {"cpu,host v=1", "invalid tag format"},
      {"cpu,=a v=1", "missing tag key"},
      {"cpu,host= v=1", "missing tag value"},
      {"cpu,host=a=b v=1", "invalid tag format"},
      {"cpu v", "invalid field format"},
      {"cpu =1", "missing field key"},
      {"cpu v=", "missing field value"},
      {"cpu v=abc", "invalid field value"},
      {"cpu v=nan", "invalid field value"},
      {"cpu v=inf", "invalid field value"},
      {"cpu v=1e999", "invalid number"},
      {"cpu v=1.2.3", "invalid number"},
      {"cpu v=+1", "invalid field value"},
      {"cpu v=9223372036854775808i", "invalid integer"},
      {"cpu v=-1u", "invalid unsigned integer"},
      {"cpu v=1 12x", "invalid timestamp"},
      {"cpu v=1 99999999999999999999", "invalid timestamp"},
      {"cpu v=1 1 2", "unexpected text after the timestamp"},
      {"cpu v=\"x\"y", "invalid field format"},
      {"cpu v=1,", "invalid field format"},
  };
  for (const auto& [text, reason] : cases) {
    const std::string body = "ok v=1\n" + text + "\nok v=2\n";
    const Read read = read_all(body);
    ASSERT_EQ(read.errors.size(), 1u) << text;
    EXPECT_EQ(read.errors[0].number, 2u) << text;
    EXPECT_EQ(read.errors[0].text, text);
    EXPECT_TRUE(std::string(read.errors[0].reason).starts_with(reason))
        << text << ": " << read.errors[0].reason;
    ASSERT_EQ(read.lines.size(), 2u) << text;
    EXPECT_EQ(read.lines[1].number, 3u) << text;
  }
}

TEST(LineProtocol, AnUnterminatedStringEndsTheBody) {
  const Read read = read_all("ok v=1\ncpu v=\"abc\nok v=2\n");
  ASSERT_EQ(read.errors.size(), 1u);
  EXPECT_TRUE(std::string(read.errors[0].reason).starts_with("unterminated string"));
  EXPECT_EQ(read.lines.size(), 1u);
}

TEST(LineProtocol, ConvertsEveryPrecisionToMilliseconds) {
  EXPECT_EQ(timestamp_to_ms(1568760922123456789, *precision_from_name("ns")), 1568760922123);
  EXPECT_EQ(timestamp_to_ms(1568760922123500000, *precision_from_name("n")), 1568760922124);
  EXPECT_EQ(timestamp_to_ms(1568760922123456, *precision_from_name("u")), 1568760922123);
  EXPECT_EQ(timestamp_to_ms(1568760922123456, *precision_from_name("us")), 1568760922123);
  EXPECT_EQ(timestamp_to_ms(1568760922123, *precision_from_name("ms")), 1568760922123);
  EXPECT_EQ(timestamp_to_ms(1568760922, *precision_from_name("s")), 1568760922000);
  EXPECT_EQ(timestamp_to_ms(26146015, *precision_from_name("m")), 1568760900000);
  EXPECT_EQ(timestamp_to_ms(435766, *precision_from_name("h")), 1568757600000);
  EXPECT_EQ(timestamp_to_ms(INT64_MAX, Precision::s), std::nullopt);
  EXPECT_EQ(precision_from_name("x"), std::nullopt);
  EXPECT_EQ(precision_from_name(""), std::nullopt);
}

}  // namespace
}  // namespace servertrack::ingest
