// How POST /server/<name> treats the edge cases of JSON numbers (README,
// "The API"), decided here and checked for both "cpu" and "ram". The body
// parser is SampleParser (ingest/sample_parser.h); a refusal becomes 400 with
// the JSON error body (ingest/ingest_routes.cc).
//
// Accepted (204), with the value recorded:
// - -0, -0.0, -0e0 and a negative value that underflows (-1e-400): zero. The
//   sign of a zero is not significant; the segment's sums start at +0.0, so an
//   answer never shows -0.
// - subnormals (5e-324, 2.2250738585072009e-308): their exact value.
// - underflow below the smallest subnormal (1e-400): 0.
// - integers above 2^53 up to 2^64-1: the nearest double
//   (9007199254740993 -> 9007199254740992).
// - up to the largest double: 1e308, 1.7976931348623157e308.
// - exponents in any JSON spelling: 1E+2, 1e-2, 1.0e+0001.
// Refused (400):
// - overflow: 1e400, 1.7976931348623159e308 (rounds past the largest double).
// - integers written without fraction or exponent beyond 64 bits
//   (18446744073709551616): simdjson parses integers as 64-bit; the same value
//   written as 1.8446744073709552e19 is accepted.
// - what RFC 8259 does not allow: leading zeros (01, 00, -01), a plus sign
//   (+1), hex (0x10), NaN, Infinity, -Infinity, 1., .5, 1e.
// - a number in a string ("1"), and negative numbers (the contract).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "ingest/sample_parser.h"
#include "tests/fuzz/padded_parse.h"

namespace servertrack::ingest {
namespace {

struct NumberCase {
  const char* text;
  bool accepted;
  double value;  // when accepted
};

void PrintTo(const NumberCase& c, std::ostream* os) { *os << c.text; }

class SampleNumbers : public ::testing::TestWithParam<NumberCase> {
 protected:
  ParsedSample parse_with_cpu(const std::string& number) {
    return fuzz::parse_padded(parser_, R"({"cpu":)" + number + R"(,"ram":1})");
  }
  ParsedSample parse_with_ram(const std::string& number) {
    return fuzz::parse_padded(parser_, R"({"cpu":1,"ram":)" + number + "}");
  }

  SampleParser parser_;
};

TEST_P(SampleNumbers, DecidedForCpuAndRam) {
  const NumberCase& c = GetParam();
  const ParsedSample as_cpu = parse_with_cpu(c.text);
  const ParsedSample as_ram = parse_with_ram(c.text);
  ASSERT_EQ(as_cpu.ok, c.accepted) << as_cpu.error;
  ASSERT_EQ(as_ram.ok, c.accepted) << as_ram.error;
  if (c.accepted) {
    EXPECT_EQ(as_cpu.sample.cpu, c.value);
    EXPECT_EQ(as_ram.sample.ram, c.value);
  } else {
    EXPECT_FALSE(as_cpu.error.empty());
    EXPECT_FALSE(as_ram.error.empty());
  }
}

constexpr double kSmallestSubnormal = std::numeric_limits<double>::denorm_min();
constexpr double kLargest = std::numeric_limits<double>::max();

INSTANTIATE_TEST_SUITE_P(
    NegativeZero, SampleNumbers,
    ::testing::Values(NumberCase{"-0", true, 0.0}, NumberCase{"-0.0", true, 0.0},
                      NumberCase{"-0e0", true, 0.0}, NumberCase{"-1e-400", true, 0.0}));

INSTANTIATE_TEST_SUITE_P(
    Subnormals, SampleNumbers,
    ::testing::Values(NumberCase{"5e-324", true, kSmallestSubnormal},
                      NumberCase{"4.9406564584124654e-324", true, kSmallestSubnormal},
                      NumberCase{"2.2250738585072009e-308", true, 2.2250738585072009e-308},
                      NumberCase{"1e-400", true, 0.0}));

INSTANTIATE_TEST_SUITE_P(
    BigIntegers, SampleNumbers,
    ::testing::Values(NumberCase{"9007199254740992", true, 9007199254740992.0},
                      NumberCase{"9007199254740993", true, 9007199254740992.0},
                      NumberCase{"18446744073709551615", true, 18446744073709551616.0},
                      NumberCase{"1.8446744073709552e19", true, 18446744073709551616.0},
                      NumberCase{"18446744073709551616", false, 0},
                      NumberCase{"123456789012345678901234567890", false, 0}));

INSTANTIATE_TEST_SUITE_P(
    Magnitude, SampleNumbers,
    ::testing::Values(NumberCase{"1e308", true, 1e308},
                      NumberCase{"1.7976931348623157e308", true, kLargest},
                      NumberCase{"1e400", false, 0},
                      NumberCase{"1.7976931348623159e308", false, 0},
                      NumberCase{"-1e400", false, 0}));

INSTANTIATE_TEST_SUITE_P(
    Spelling, SampleNumbers,
    ::testing::Values(NumberCase{"0", true, 0.0}, NumberCase{"0.5", true, 0.5},
                      NumberCase{"1E+2", true, 100.0}, NumberCase{"1e-2", true, 0.01},
                      NumberCase{"1.0e+0001", true, 10.0}, NumberCase{"01", false, 0},
                      NumberCase{"00", false, 0}, NumberCase{"-01", false, 0},
                      NumberCase{"+1", false, 0}, NumberCase{"0x10", false, 0},
                      NumberCase{"0X1A", false, 0}, NumberCase{"1.", false, 0},
                      NumberCase{".5", false, 0}, NumberCase{"1e", false, 0},
                      NumberCase{"\"1\"", false, 0}, NumberCase{"-1", false, 0}));

INSTANTIATE_TEST_SUITE_P(
    NotANumber, SampleNumbers,
    ::testing::Values(NumberCase{"NaN", false, 0}, NumberCase{"nan", false, 0},
                      NumberCase{"Infinity", false, 0}, NumberCase{"-Infinity", false, 0},
                      NumberCase{"inf", false, 0}, NumberCase{"\"NaN\"", false, 0}));

// The refusal of an overflowing number says it is about a number, so the
// sender knows which part of the body to fix.
TEST(SampleNumberErrors, OverflowNamesTheNumber) {
  SampleParser parser;
  const ParsedSample parsed = fuzz::parse_padded(parser, R"({"cpu":1e400,"ram":1})");
  ASSERT_FALSE(parsed.ok);
  EXPECT_NE(parsed.error.find("number"), std::string::npos) << parsed.error;
}

}  // namespace
}  // namespace servertrack::ingest
