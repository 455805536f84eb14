// The shared HTTP plumbing (http/) on its own: error bodies, redirects'
// Location, the bounded body buffer, the exception and error handlers.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "http/error_responses.h"
#include "http/answer.h"
#include "http/request_body.h"
#include "http/sibling.h"

namespace servertrack::http {
namespace {

TEST(JsonError, SetsTheStatusAndTheJsonErrorBody) {
  httplib::Response response;
  set_json_error(response, 400, "bad \"x\"");
  set_json_error(response, 404, "gone");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.body, R"({"error": "gone"})");
  EXPECT_EQ(response.headers.count("Content-Type"), 1u);
  EXPECT_EQ(response.get_header_value("Content-Type"), "application/json");
}

TEST(SiblingLocation, UsesTheConfiguredUrlOrTheRequestsHost) {
  EXPECT_EQ(sibling_location("http://q:9/", "ignored:1", "127.0.0.1", 8888, "/server/a?x=1"),
            "http://q:9/server/a?x=1");
  EXPECT_EQ(sibling_location("", "example.org:8889", "127.0.0.1", 8888, "/server/a"),
            "http://example.org:8888/server/a");
  EXPECT_EQ(sibling_location("", "[::1]:8889", "127.0.0.1", 8888, "/"), "http://[::1]:8888/");
  EXPECT_EQ(sibling_location("", "host", "127.0.0.1", 8889, "/s"), "http://host:8889/s");
  EXPECT_EQ(sibling_location("", "", "127.0.0.1", 8889, "/s"), "http://127.0.0.1:8889/s");
}

TEST(RequestBody, BoundedAt64KiBAndReusable) {
  RequestBody body(64);
  const std::string half(kMaxBodyBytes / 2, 'x');
  EXPECT_TRUE(body.append(half.data(), half.size()));
  EXPECT_TRUE(body.append(half.data(), half.size()));
  EXPECT_FALSE(body.append("y", 1));
  EXPECT_EQ(body.view().size(), kMaxBodyBytes);
  body.clear();
  EXPECT_TRUE(body.view().empty());
  EXPECT_NE(body.data(), nullptr);
  EXPECT_TRUE(body.append("{}", 2));
  EXPECT_EQ(body.view(), "{}");
}

TEST(ErrorResponses, ExceptionBecomesA500WithoutItsText) {
  httplib::Request request;
  request.method = "GET";
  request.path = "/server/a";
  httplib::Response response;
  response.set_header("X-Partial", "1");
  answer_exception(request, response,
                   std::make_exception_ptr(std::runtime_error("secret detail")));
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(response.body.find("secret"), std::string::npos);
  EXPECT_EQ(response.body, R"({"error": "internal error; see the worker's log"})");
  EXPECT_FALSE(response.has_header("X-Partial"));
}

TEST(ErrorResponses, ErrorHandlerFillsOnlyEmptyBodies) {
  httplib::Request request;
  httplib::Response response;
  response.status = 413;
  EXPECT_EQ(fill_error_body(request, response), httplib::Server::HandlerResponse::Handled);
  EXPECT_NE(response.body.find("64 KiB"), std::string::npos);
  response.status = 400;
  EXPECT_EQ(fill_error_body(request, response), httplib::Server::HandlerResponse::Unhandled);
  EXPECT_NE(response.body.find("64 KiB"), std::string::npos);
}

TEST(ErrorResponses, OnlyGetHeadAndPostAreRoutedAndDeleteWhereServersAreDeleted) {
  for (const bool deletes : {false, true}) {
    const auto guard = refuse_other_methods(deletes);
    httplib::Response response;
    for (const char* method : {"GET", "HEAD", "POST"}) {
      httplib::Request request;
      request.method = method;
      EXPECT_EQ(guard(request, response), httplib::Server::HandlerResponse::Unhandled);
    }
    httplib::Request request;
    request.method = "DELETE";
    EXPECT_EQ(guard(request, response), deletes ? httplib::Server::HandlerResponse::Unhandled
                                                : httplib::Server::HandlerResponse::Handled);
    request.method = "PUT";
    EXPECT_EQ(guard(request, response), httplib::Server::HandlerResponse::Handled);
    EXPECT_EQ(response.status, 405);
  }
}

}  // namespace
}  // namespace servertrack::http
