// dashboard_html() returns exactly the bytes of query/dashboard/index.html, whose
// path the test definition passes in SERVERTRACK_DASHBOARD_HTML.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "query/dashboard/dashboard_html.h"

TEST(DashboardHtml, IsTheSourcePageByteForByte) {
  const char* path = std::getenv("SERVERTRACK_DASHBOARD_HTML");
  ASSERT_NE(path, nullptr) << "SERVERTRACK_DASHBOARD_HTML is not set";
  std::ifstream file(path, std::ios::binary);
  ASSERT_TRUE(file) << "cannot read " << path;
  const std::string source{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  ASSERT_GT(source.size(), 0u);
  EXPECT_EQ(servertrack::query::dashboard_html(), source);
}
