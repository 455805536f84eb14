// frame_request() on its own: every framing rule of http/request_framer.h,
// and that a request received byte by byte frames the same as one received
// whole.
#include <gtest/gtest.h>

#include <string>

#include "http/request_framer.h"

namespace servertrack::http {
namespace {

Frame frame(const std::string& bytes) { return frame_request(bytes); }

void expect_complete(const std::string& bytes, std::size_t length) {
  const Frame result = frame(bytes);
  EXPECT_EQ(result.status, FrameStatus::complete) << bytes;
  EXPECT_EQ(result.length, length) << bytes;
}

void expect_refused(const std::string& bytes, int status) {
  const Frame result = frame(bytes);
  EXPECT_EQ(result.status, FrameStatus::refused) << bytes.substr(0, 200);
  EXPECT_EQ(result.error_status, status) << bytes.substr(0, 200);
}

const std::string kGet = "GET /server/a HTTP/1.1\r\nHost: x\r\n\r\n";

TEST(RequestFramer, HeadersWithoutBodyEndAtTheBlankLine) {
  expect_complete(kGet, kGet.size());
  expect_complete(kGet + "GET /next", kGet.size());  // pipelined bytes stay
  EXPECT_EQ(frame("GET /server/a HTTP/1.1\r\nHost: x\r\n").status, FrameStatus::incomplete);
  EXPECT_EQ(frame("").status, FrameStatus::incomplete);
  EXPECT_FALSE(frame("GET / HTTP/1.1\r\n").headers_complete);
}

TEST(RequestFramer, ContentLengthGivesTheBody) {
  const std::string head = "POST /server/a HTTP/1.1\r\ncontent-LENGTH:  5 \r\n\r\n";
  EXPECT_EQ(frame(head + "1234").status, FrameStatus::incomplete);
  EXPECT_TRUE(frame(head + "1234").headers_complete);
  expect_complete(head + "12345", head.size() + 5);
  expect_complete(head + "12345POST", head.size() + 5);
  const std::string twice = "POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab";
  expect_complete(twice, twice.size());
}

TEST(RequestFramer, BadContentLengthIs400AndTooLargeIs413) {
  expect_refused("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400);
  expect_refused("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400);
  expect_refused("POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n", 400);
  expect_refused("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", 400);
  expect_refused("POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n", 400);
  expect_refused("POST / HTTP/1.1\r\nContent-Length: 65537\r\n\r\n", 413);
  expect_refused("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413);
  const std::string exact =
      "POST / HTTP/1.1\r\nContent-Length: 65536\r\n\r\n" + std::string(kMaxBodyBytes, 'x');
  expect_complete(exact, exact.size());
}

TEST(RequestFramer, ChunkedBodiesAreFramedAndBounded) {
  const std::string head = "POST /server/a HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n";
  const std::string body = "4\r\nWiki\r\nA;name=value\r\n0123456789\r\n0\r\n\r\n";
  expect_complete(head + body, head.size() + body.size());
  expect_complete(head + body + "GET", head.size() + body.size());
  const std::string trailers = "1\r\nx\r\n0\r\nX-Sum: 1\r\n\r\n";
  expect_complete(head + trailers, head.size() + trailers.size());
  for (std::size_t cut = 0; cut < body.size(); ++cut) {
    EXPECT_EQ(frame(head + body.substr(0, cut)).status, FrameStatus::incomplete) << cut;
  }
  expect_refused(head + "g\r\n", 400);
  expect_refused(head + "\r\n", 400);
  expect_refused(head + "-1\r\n", 400);
  expect_refused(head + "4 x\r\n", 400);
  expect_refused(head + "4\r\nWikiXX", 400);  // no CRLF after the data
  expect_refused(head + "10001\r\n", 413);
  expect_refused(head + "ffffffffffffffffffffffff\r\n", 413);
  expect_refused(head + std::string(2000, '1'), 400);  // endless chunk-size lines
  expect_refused(head + "1;" + std::string(2000, 'e'), 400);
  std::string many;
  for (int i = 0; i < 17; ++i) many += "1000\r\n" + std::string(4096, 'x') + "\r\n";
  expect_refused(head + many, 413);  // 68 KiB in 4 KiB chunks
}

TEST(RequestFramer, ChunkedWithContentLengthOrOtherCodingsIs400) {
  expect_refused("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
                 400);
  expect_refused("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 400);
  expect_refused("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked"
                 "\r\n\r\n", 400);
}

TEST(RequestFramer, HeaderBlockOver16KiBIs431) {
  const std::string long_line = "GET /" + std::string(kMaxHeaderBytes, 'a');
  expect_refused(long_line, 431);
  expect_refused("GET / HTTP/1.1\r\nX: " + std::string(kMaxHeaderBytes, 'b') + "\r\n\r\n", 431);
  const std::string just_fits = "GET / HTTP/1.1\r\nX: " +
                                std::string(kMaxHeaderBytes - 23, 'c') + "\r\n\r\n";
  ASSERT_EQ(just_fits.size(), kMaxHeaderBytes);
  expect_complete(just_fits, just_fits.size());
}

TEST(RequestFramer, ExpectContinueIsReportedOnceHeadersAreComplete) {
  const std::string head =
      "POST /server/a HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\n";
  const Frame waiting = frame(head);
  EXPECT_EQ(waiting.status, FrameStatus::incomplete);
  EXPECT_TRUE(waiting.expects_continue);
  EXPECT_FALSE(frame(head.substr(0, head.size() - 2)).expects_continue);
  EXPECT_FALSE(frame("POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n").expects_continue);
  expect_refused("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 70000\r\n\r\n", 413);
}

TEST(RequestFramer, ByteByByteAgreesWithWhole) {
  const std::string requests[] = {
      kGet,
      "POST /server/a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
      "POST /server/a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
  };
  for (const std::string& request : requests) {
    for (std::size_t cut = 0; cut < request.size(); ++cut) {
      EXPECT_EQ(frame(request.substr(0, cut)).status, FrameStatus::incomplete) << request << cut;
    }
    expect_complete(request, request.size());
  }
}

}  // namespace
}  // namespace servertrack::http
