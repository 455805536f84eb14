// The one table from a segment status to an HTTP status and sentence
// (http/status_answers.h), and the route-less sentences both ways of serving
// share: what every route, the fast path and the event loop answer.
#include <gtest/gtest.h>

#include <string>

#include "common/json_string.h"
#include "http/loop_responses.h"
#include "http/status_answers.h"

namespace servertrack::http {
namespace {

std::string body(const Answer& answer) { return std::string(answer.body); }

TEST(StatusAnswers, EachStatusHasOneHttpStatus) {
  EXPECT_EQ(http_status(shm::Status::ok), 204);
  EXPECT_EQ(http_status(shm::Status::repeat), 204);
  for (const auto status : {shm::Status::invalid_name, shm::Status::invalid_value, shm::Status::time_in_future,
                            shm::Status::time_too_old, shm::Status::bucket_full}) {
    EXPECT_EQ(http_status(status), 400) << shm::describe(status);
  }
  EXPECT_EQ(http_status(shm::Status::not_found), 404);
  EXPECT_EQ(http_status(shm::Status::busy), 503);
  EXPECT_EQ(http_status(shm::Status::table_full), 507);
  EXPECT_EQ(http_status(shm::Status::read_only), 500);
}

TEST(StatusAnswers, NotFoundNamesTheServerAndHowLongItLivesSilent) {
  EXPECT_EQ(status_sentence(shm::Status::not_found, {.name = "db-2.x", .days = 30}),
            R"(no server named "db-2.x" is being tracked: never recorded, deleted, or silent for 30 days)");
  EXPECT_EQ(status_sentence(shm::Status::not_found, {.name = "a", .days = 0}),
            R"(no server named "a" is being tracked: never recorded, deleted, or silent for 24 hours)");
  const Answer answer = status_answer(shm::Status::not_found, {.name = "a", .days = 1});
  EXPECT_EQ(answer.status, 404);
  EXPECT_EQ(body(answer),
            R"({"error": "no server named \"a\" is being tracked: never recorded, deleted, or silent for 24 hours"})");
}

TEST(StatusAnswers, BusyIsA503ToRetryWithItsRemedy) {
  const Answer answer = status_answer(shm::Status::busy, {});
  EXPECT_EQ(answer.status, 503);
  EXPECT_TRUE(answer.retry_after);
  EXPECT_NE(body(answer).find("shmtool check"), std::string::npos);
}

TEST(StatusAnswers, TimeRefusalsStateTheTimesInvolved) {
  EXPECT_EQ(status_sentence(shm::Status::time_in_future, {.now = 1000, .sample_ms = 1100500}),
            R"("time" 1100.500 is 100 s after the appliance's clock (1000); a sample may be at most 60 s ahead)");
  const std::string old = status_sentence(shm::Status::time_too_old, {.days = 30, .now = 100 * 86400, .sample_ms = 0});
  EXPECT_NE(old.find("30-day window"), std::string::npos) << old;
  EXPECT_NE(status_sentence(shm::Status::table_full, {}).find("larger capacity"), std::string::npos);
}

TEST(StatusAnswers, AnInternalErrorNeverExplainsItself) {
  EXPECT_EQ(status_sentence(shm::Status::read_only, {}), kInternalErrorMessage);
  EXPECT_STREQ(error_message(500), kInternalErrorMessage);
  EXPECT_STREQ(error_message(502), kInternalErrorMessage);
  EXPECT_STREQ(error_message(404), kNoSuchPathMessage);
  EXPECT_STREQ(error_message(418), "the request was refused");
}

TEST(StatusAnswers, TheLoopAnswersItsRefusalsInTheSameWords) {
  for (const int status : {400, 408, 413, 431, 503}) {
    const std::string response = loop_response(status, "servertrack-test", false);
    EXPECT_NE(response.find(common::json_string(error_message(status))), std::string::npos) << response;
    EXPECT_EQ(response.find("Retry-After") != std::string::npos, status == 503) << response;
  }
}

}  // namespace
}  // namespace servertrack::http
