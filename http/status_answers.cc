#include "http/status_answers.h"

#include <fmt/format.h>

#include "common/json_string.h"
#include "common/segment_advice.h"
#include "http/server_path.h"

namespace servertrack::http {
namespace {

// "1767225600" or "1767225600.5": milliseconds as the seconds a sender wrote.
std::string unix_seconds(std::int64_t unix_ms) {
  return unix_ms % 1000 == 0 ? fmt::format("{}", unix_ms / 1000) : fmt::format("{:.3f}", unix_ms / 1000.0);
}

// "30 days" or "24 hours": how long a server lives without a sample.
std::string silence(int days) {
  const std::int64_t seconds = shm::expiry_seconds(days);
  return seconds % shm::kSecondsPerDay == 0 && seconds > shm::kSecondsPerDay
             ? fmt::format("{} days", seconds / shm::kSecondsPerDay)
             : fmt::format("{} hours", seconds / shm::kSecondsPerHour);
}

}  // namespace

int http_status(shm::Status status) noexcept {
  switch (status) {
    case shm::Status::ok:
    case shm::Status::repeat: return 204;
    case shm::Status::invalid_name:
    case shm::Status::invalid_value:
    case shm::Status::time_in_future:
    case shm::Status::time_too_old:
    case shm::Status::bucket_full: return 400;
    case shm::Status::not_found: return 404;
    case shm::Status::busy:
    case shm::Status::moved: return 503;
    case shm::Status::table_full: return 507;
    case shm::Status::read_only: break;
  }
  return 500;
}

std::string status_sentence(shm::Status status, const StatusFacts& facts) {
  switch (status) {
    case shm::Status::invalid_name:
      return kInvalidNameMessage;
    case shm::Status::not_found:
      return fmt::format("no server named {} is being tracked: never recorded, deleted, or silent for {}",
                         common::json_string(facts.name), silence(facts.days));
    case shm::Status::time_in_future:
      return fmt::format("\"time\" {} is {} s after the appliance's clock ({}); a sample may be at most {} s ahead",
                         unix_seconds(facts.sample_ms), facts.sample_ms / 1000 - facts.now, facts.now,
                         shm::kClockSlack);
    case shm::Status::time_too_old: {
      const std::int64_t oldest = shm::oldest_sample_time(facts.now, facts.days);
      return fmt::format("\"time\" {} is older than the {}, which starts at {} (unix seconds); the sample can "
                         "no longer be counted",
                         unix_seconds(facts.sample_ms),
                         oldest < shm::oldest_sample_time(facts.now, 0) ? fmt::format("{}-day window", facts.days)
                                                                        : std::string("24-hour window"),
                         oldest);
    }
    case shm::Status::table_full:
      return "no room for a new server: the segment's table is full; existing servers keep working "
             "(recreate the segment with a larger capacity)";
    case shm::Status::busy:
    case shm::Status::moved:
      return common::with_remedy(status);
    case shm::Status::read_only:
      return kInternalErrorMessage;
    default:
      return shm::describe(status);
  }
}

Answer status_answer(shm::Status status, const StatusFacts& facts) {
  const std::string sentence = status_sentence(status, facts);
  return http_status(status) == 503 ? retry_later(sentence) : json_error(http_status(status), sentence);
}

}  // namespace servertrack::http
