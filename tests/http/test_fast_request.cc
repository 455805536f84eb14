// parse_fast_request() on its own: what it reads from the shapes it accepts,
// and each kind of request it must leave to cpp-httplib (http/fast_request.h).
// tests/fuzz/fuzz_fast_request.cc checks the accepted ones against cpp-httplib.
#include <gtest/gtest.h>

#include <string>

#include "http/fast_request.h"

namespace servertrack::http {
namespace {

const std::string kBody = R"({"cpu": 12.5, "ram": 40.1})";
const std::string kPost = "POST /server/web-01.example HTTP/1.1\r\nHost: x\r\nContent-Type: "
                          "application/json\r\nContent-Length: 26\r\n\r\n" + kBody;

void expect_declined(const std::string& request) {
  EXPECT_FALSE(parse_fast_request(request).has_value()) << request;
}

TEST(FastRequest, ReadsAPost) {
  const auto request = parse_fast_request(kPost);
  ASSERT_TRUE(request.has_value());
  EXPECT_TRUE(request->post);
  EXPECT_EQ(request->name, "web-01.example");
  EXPECT_EQ(request->body, kBody);
  EXPECT_FALSE(request->close);
  EXPECT_EQ(request->authorization_count, 0u);
}

TEST(FastRequest, ReadsAGetAndItsConnectionHeader) {
  const auto request = parse_fast_request("GET /server/_db2 HTTP/1.1\r\nconnection: close\r\n\r\n");
  ASSERT_TRUE(request.has_value());
  EXPECT_FALSE(request->post);
  EXPECT_EQ(request->name, "_db2");
  EXPECT_TRUE(request->body.empty());
  EXPECT_TRUE(request->close);
  const auto kept = parse_fast_request("GET /server/a HTTP/1.1\r\nConnection: keep-alive\r\n\r\n");
  ASSERT_TRUE(kept.has_value());
  EXPECT_FALSE(kept->close);
}

TEST(FastRequest, KeepsTheFirstAuthorizationAndCountsThem) {
  const auto request = parse_fast_request(
      "POST /server/a HTTP/1.1\r\nauthorization:\t Bearer s3cret \r\nAUTHORIZATION: Bearer x\r\n"
      "Content-Length: 2\r\n\r\n{}");
  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(request->authorization, "Bearer s3cret");
  EXPECT_EQ(request->authorization_count, 2u);
}

TEST(FastRequest, IgnoresHeadersTheRoutesIgnore) {
  EXPECT_TRUE(parse_fast_request("POST /server/a HTTP/1.1\r\nAccept-Encoding: gzip\r\nExpect: "
                                 "100-continue\r\nUser-Agent: agent/1\r\nContent-Length: 2\r\n\r\n{}")
                  .has_value());
}

TEST(FastRequest, LeavesOtherTargetsAndMethodsToTheGeneralPath) {
  expect_declined("GET /server/a?counts=1 HTTP/1.1\r\n\r\n");
  expect_declined("GET /server/a%41 HTTP/1.1\r\n\r\n");
  expect_declined("GET /server/a/ HTTP/1.1\r\n\r\n");
  expect_declined("GET /server/.hidden HTTP/1.1\r\n\r\n");
  expect_declined("GET /server/ HTTP/1.1\r\n\r\n");
  expect_declined("GET /servers HTTP/1.1\r\n\r\n");
  expect_declined("GET /metrics HTTP/1.1\r\n\r\n");
  expect_declined("HEAD /server/a HTTP/1.1\r\n\r\n");
  expect_declined("DELETE /server/a HTTP/1.1\r\n\r\n");
  expect_declined("GET /server/a HTTP/1.0\r\n\r\n");
  expect_declined("GET  /server/a HTTP/1.1\r\n\r\n");
  expect_declined("GET /server/a  HTTP/1.1\r\n\r\n");
}

TEST(FastRequest, LeavesUnusualHeadersToTheGeneralPath) {
  expect_declined("GET /server/a HTTP/1.1\r\nConnection: Close\r\n\r\n");
  expect_declined("GET /server/a HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\n\r\n");
  expect_declined("GET /server/a HTTP/1.1\r\nConnection: close\r\nConnection: close\r\n\r\n");
  expect_declined("GET /server/a HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n");
  expect_declined("GET /server/a HTTP/1.1\r\nRange: bytes=0-10\r\n\r\n");
  expect_declined("GET /server/a HTTP/1.1\r\nX-Note: 100%\r\n\r\n");
  expect_declined("GET /server/a HTTP/1.1\r\nX-Empty:\r\n\r\n");
  expect_declined("GET /server/a HTTP/1.1\r\nNo colon here\r\n\r\n");
  expect_declined("GET /server/a HTTP/1.1\r\nBad Name: x\r\n\r\n");
  expect_declined("GET /server/a HTTP/1.1\r\nX-Long: " + std::string(9000, 'a') + "\r\n\r\n");
  expect_declined("POST /server/a HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: 2\r\n\r\n{}");
  expect_declined("POST /server/a HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                  "Content-Length: 2\r\n\r\n{}");
}

TEST(FastRequest, LeavesOtherBodiesToTheGeneralPath) {
  expect_declined("POST /server/a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
  expect_declined("POST /server/a HTTP/1.1\r\nHost: x\r\n\r\n");
  expect_declined("GET /server/a HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}");
}

}  // namespace
}  // namespace servertrack::http
