// json_string(): any bytes become one valid, ASCII-only JSON string literal.
#include <gtest/gtest.h>

#include "common/json_string.h"

namespace servertrack::common {
namespace {

TEST(JsonString, EscapesAnyTextIntoValidJson) {
  EXPECT_EQ(json_string("plain"), R"("plain")");
  EXPECT_EQ(json_string("a\"b\\c\n\x01\xc3\xa9"), R"("a\"b\\c\u000a\u0001\u00c3\u00a9")");
}

}  // namespace
}  // namespace servertrack::common
